"""The `cms` mix of `make bench`: one POST /variants against eight POST /convert, and /info against /convert.

Each photo becomes 320/768/1200/1920 px x WebP + AVIF at the service's defaults, either as one /variants
request or as eight /convert requests. The two sides run on two gunicorn servers (2 workers each, same
settings) so that each side's worker peak RSS is its own; only one server is busy at a time, rounds alternate
which side goes first, 4 clients each.
"""

from __future__ import annotations

import io
import json
import statistics
import threading
import time

from PIL import Image

from bench.common import closed_loop, markdown_table
from testing.http import multipart, post_body
from testing.server import LiveServer, memory_of

WIDTHS = (320, 768, 1200, 1920)
FORMATS = ("webp", "avif")
VARIANTS = [{"name": f"{fmt}-{width}", "format": fmt, "width": width} for width in WIDTHS for fmt in FORMATS]


def run_sets(server: LiveServer, bodies: list, reps: int) -> dict:
    """Every photo as one /variants request; renditions, bytes per rendition."""
    sizes: list[int] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        status, payload = post_body(server, "/variants", bodies[index])
        if status != 200:
            raise RuntimeError(f"{status} {payload[:200]!r}")
        made = [item["bytes"] for item in json.loads(payload)["variants"]]
        with lock:
            sizes.extend(made)

    seconds = closed_loop([index for _ in range(reps) for index in range(len(bodies))], work)
    return {"seconds": seconds, "renditions": len(sizes), "bytes": sizes}


def run_singles(server: LiveServer, bodies: list, reps: int) -> dict:
    """Every photo as eight /convert requests."""
    sizes: list[int] = []
    lock = threading.Lock()

    def work(job: tuple[int, int]) -> None:
        photo, variant = job
        status, payload = post_body(server, "/convert", bodies[photo][variant])
        if status != 200:
            raise RuntimeError(f"{status} {payload[:200]!r}")
        with lock:
            sizes.append(len(payload))

    jobs = [
        (photo, variant)
        for _ in range(reps)
        for photo in range(len(bodies))
        for variant in range(len(VARIANTS))
    ]
    seconds = closed_loop(jobs, work)
    return {"seconds": seconds, "renditions": len(sizes), "bytes": sizes}


def cms_mix(
    sets_server: LiveServer, singles_server: LiveServer, photos: list[bytes], rounds: int, reps: int
) -> dict:
    """Renditions per second and bytes per rendition, /variants vs eight /convert, interleaved by round."""
    set_bodies = [multipart(photo, {"variants": json.dumps(VARIANTS)}) for photo in photos]
    single_bodies = [
        [
            multipart(photo, {key: str(value) for key, value in item.items() if key != "name"})
            for item in VARIANTS
        ]
        for photo in photos
    ]
    run_sets(sets_server, set_bodies[:1], 1)  # warm-up
    run_singles(singles_server, single_bodies[:1], 1)
    runs: dict[str, list[dict]] = {"variants": [], "convert": []}
    for round_index in range(rounds):
        order = ("variants", "convert") if round_index % 2 == 0 else ("convert", "variants")
        for side in order:
            if side == "variants":
                runs[side].append(run_sets(sets_server, set_bodies, reps))
            else:
                runs[side].append(run_singles(singles_server, single_bodies, reps))
    report = {}
    for side, results in runs.items():
        seconds = sum(result["seconds"] for result in results)
        sizes = [size for result in results for size in result["bytes"]]
        report[side] = {
            "renditions": len(sizes),
            "renditions_per_second": len(sizes) / seconds,
            "mean_bytes_per_rendition": statistics.mean(sizes),
        }
    report["ratio"] = report["variants"]["renditions_per_second"] / report["convert"]["renditions_per_second"]
    report["bytes_ratio"] = (
        report["variants"]["mean_bytes_per_rendition"] / report["convert"]["mean_bytes_per_rendition"]
    )
    report["worker_peak_rss_mib"] = {
        "variants": max(memory_of(pid)["VmHWM"] for pid in sets_server.worker_pids()),
        "convert": max(memory_of(pid)["VmHWM"] for pid in singles_server.worker_pids()),
    }
    return report


def info_costs(server: LiveServer, photos: list[bytes], names: list[str], reps: int) -> list[dict]:
    """Per photo, one client at a time: median /info time against median 1200 px /convert time."""
    results = []
    for photo, name in zip(photos, names, strict=True):
        info_body = multipart(photo, {})
        convert_body = multipart(photo, {"width": "1200"})
        timings: dict[str, list[float]] = {"info": [], "convert": []}
        for _ in range(reps):
            for side, path, body in (("info", "/info", info_body), ("convert", "/convert", convert_body)):
                started = time.perf_counter()
                status, payload = post_body(server, path, body)
                timings[side].append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{path} {status} {payload[:200]!r}")
        size = Image.open(io.BytesIO(photo)).size
        info_ms = statistics.median(timings["info"]) * 1000
        convert_ms = statistics.median(timings["convert"]) * 1000
        results.append(
            {
                "photo": name,
                "megapixels": round(size[0] * size[1] / 1e6, 1),
                "info_ms": info_ms,
                "convert_1200_ms": convert_ms,
                "ratio": info_ms / convert_ms,
            }
        )
    return results


def placeholder_costs(photos: list[bytes], names: list[str], reps: int = 20) -> list[dict]:
    """Per photo, in process: the proxy from the decode /info makes, and the three placeholders from it."""
    from imgopt.imaging.describe.placeholder import PROXY_SIDE, data_uri, make_proxy, placeholder
    from imgopt.imaging.source import open_image, read_orientation
    from imgopt.imaging.steps import turn_upright

    results = []
    for photo, name in zip(photos, names, strict=True):
        with open_image(photo) as source:
            orientation = read_orientation(source, [])
            source.draft(source.mode, (PROXY_SIDE, PROXY_SIDE))
            source.load()
            base = turn_upright(source, orientation)
        started = time.perf_counter()
        for _ in range(reps):
            proxy = make_proxy(base)
        proxy_ms = (time.perf_counter() - started) / reps * 1000
        proxy = proxy.convert("RGBA")
        started = time.perf_counter()
        for _ in range(reps):
            placeholder(proxy)
        hash_ms = (time.perf_counter() - started) / reps * 1000
        uri_times = []
        for _ in range(reps):
            started = time.perf_counter()
            uri = data_uri(proxy)
            uri_times.append((time.perf_counter() - started) * 1000)
        results.append(
            {
                "photo": name,
                "decoded": list(base.size),
                "proxy_ms": proxy_ms,
                "hashes_ms": hash_ms,
                "data_uri_ms": statistics.median(uri_times),
                "data_uri_bytes": len(uri),
            }
        )
    return results


def print_report(cms: dict | None, info: list[dict], placeholders: list[dict]) -> None:
    """The tables docs/performance.md quotes."""
    if cms:
        rows: list[list[object]] = [
            [
                label,
                f"{cms[side]['renditions_per_second']:.2f}",
                f"{cms[side]['mean_bytes_per_rendition']:.0f}",
                f"{cms['worker_peak_rss_mib'][side]:.1f}",
            ]
            for side, label in (("variants", "one /variants"), ("convert", "eight /convert"))
        ]
        rows.append(["ratio", f"**{cms['ratio']:.3f}**", f"{cms['bytes_ratio']:.3f}", ""])
        header = [
            "cms mix (8 renditions a photo)",
            "renditions/s",
            "mean bytes a rendition",
            "worker peak RSS MiB",
        ]
        print("\n" + markdown_table(header, rows))
    if info:
        rows = [
            [
                row["photo"],
                row["megapixels"],
                f"{row['info_ms']:.1f}",
                f"{row['convert_1200_ms']:.1f}",
                f"{row['ratio']:.2f}",
            ]
            for row in info
        ]
        print(
            "\n"
            + markdown_table(["photo", "MP", "/info ms", "1200 px /convert ms", "/info / /convert"], rows)
        )
    if placeholders:
        rows = [
            [
                row["photo"],
                "x".join(map(str, row["decoded"])),
                f"{row['proxy_ms']:.2f}",
                f"{row['hashes_ms']:.2f}",
                f"{row['data_uri_ms']:.2f}",
                row["data_uri_bytes"],
            ]
            for row in placeholders
        ]
        header = [
            "photo",
            "decoded for the proxy",
            "proxy ms",
            "colour + BlurHash + ThumbHash + data URI ms",
            "of which data URI ms (median)",
            "data URI bytes",
        ]
        print("\n" + markdown_table(header, rows))
