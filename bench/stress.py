"""`make stress`: floods, probes under load, worst-case timings and a soak, against real gunicorn servers.

Every scenario sends traffic to 127.0.0.1 only, is bounded in count and time, and prints a report;
the whole run takes a few minutes on the 2-core machine.

    .venv/bin/python -m bench.stress [--flood-seconds 60] [--soak-requests 2000] [--json PATH]
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import random
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from PIL import Image, ImageDraw

from bench import overload, shedding
from bench.common import results_path, run_concurrently, write_results
from testing.http import post
from testing.server import ROOT, LiveServer, memory_of, start_gunicorn, stop_gunicorn


def noise_jpeg(size: tuple[int, int], quality: int = 90) -> bytes:
    """A photo-like hard-to-compress JPEG."""
    bands = [Image.effect_noise(size, 30 + 15 * band) for band in range(3)]
    image = Image.merge("RGB", bands).resize(size)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def convert(
    server: LiveServer, session: requests.Session, data: bytes, timeout: float = 120, **fields
) -> str:
    """POST one conversion; the outcome is the status code or the exception's name."""
    try:
        return str(post(server, "/convert", data, session=session, timeout=timeout, **fields).status_code)
    except requests.RequestException as error:
        return type(error).__name__


def flood(server: LiveServer, clients: int, seconds: float) -> dict:
    """``clients`` closed-loop clients for ``seconds``: every request must be answered."""
    uploads = [noise_jpeg((800, 600)), noise_jpeg((1200, 900)), noise_jpeg((640, 480))]
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with requests.Session() as session:
            while time.monotonic() < deadline:
                started = time.monotonic()
                outcome = convert(server, session, rng.choice(uploads), width=rng.choice([320, 400, 600]))
                with lock:
                    outcomes[outcome] += 1
                    latencies.append(time.monotonic() - started)

    elapsed = run_concurrently([functools.partial(client, seed) for seed in range(clients)])
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": sum(outcomes.values()),
        "outcomes": dict(outcomes),
        "req_per_s": round(sum(outcomes.values()) / elapsed, 1),
        "latency_p50_s": round(percentile(latencies, 0.5), 2),
        "latency_p95_s": round(percentile(latencies, 0.95), 2),
        "latency_max_s": round(max(latencies), 2),
    }


def probes_under_load(server: LiveServer, seconds: float) -> dict:
    """Keep every worker busy with AVIF while probing both health endpoints."""
    upload = noise_jpeg((2400, 1800))
    stop = threading.Event()
    conversions: Counter[str] = Counter()
    probes: dict[str, list[float]] = {"responder": [], "main_port": []}
    failures: Counter[str] = Counter()

    def converter() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                conversions[convert(server, session, upload, format="avif")] += 1

    def prober(name: str, url: str) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                status = requests.get(url, timeout=30).status_code
                if status == 200:
                    probes[name].append(time.monotonic() - started)
                else:
                    failures[f"{name}:{status}"] += 1
            except requests.RequestException as error:
                failures[f"{name}:{type(error).__name__}"] += 1
            time.sleep(0.25)

    workers = [threading.Thread(target=converter) for _ in range(4)]
    watchers = [
        threading.Thread(target=prober, args=("responder", server.health_url)),
        threading.Thread(target=prober, args=("main_port", f"{server.url}/health")),
    ]
    for thread in workers:
        thread.start()
    time.sleep(1)
    for thread in watchers:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in workers + watchers:
        thread.join()
    report = {"conversions": dict(conversions), "failures": dict(failures)}
    for name, values in probes.items():
        report[name] = {
            "probes": len(values),
            "p50_s": round(percentile(values, 0.5), 3),
            "p95_s": round(percentile(values, 0.95), 3),
            "max_s": round(max(values), 3) if values else None,
        }
    return report


def worst_cases(server: LiveServer) -> list[dict]:
    """The slowest requests the default limits allow, one at a time, with the other worker busy too."""
    # Inputs must fit MAX_UPLOAD_MB (10 MiB), so the 50 MP sources are smooth with mild noise, not pure noise.
    size = (8660, 5773)  # 50.0 MP, just under MAX_SOURCE_PIXELS
    ramp = Image.linear_gradient("L").resize(size)
    mirrored = ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    big_jpeg = io.BytesIO()
    Image.merge("RGB", [ramp, Image.effect_noise(size, 12), mirrored]).save(big_jpeg, "JPEG", quality=80)
    big_jpeg = big_jpeg.getvalue()
    big_png = io.BytesIO()
    Image.merge("RGB", [ramp, ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM), mirrored]).save(big_png, "PNG")
    frames = []
    for index in range(300):  # 300 frames x 400x400 = 48 MP, a moving disc
        frame = Image.new("P", (400, 400), 0)
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] * 64)
        left, top = index % 300, (index * 3) % 300
        ImageDraw.Draw(frame).ellipse((left, top, left + 100, top + 100), fill=1 + index % 3)
        frames.append(frame)
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=40, loop=0)
    mid = io.BytesIO()  # 24 MP: about the largest JPEG MAX_DECODE_MB (384) admits at its original size
    mid_ramp = ramp.resize((6000, 4000))
    Image.merge("RGB", [mid_ramp, Image.effect_noise((6000, 4000), 12), mid_ramp]).save(
        mid, "JPEG", quality=80
    )
    small = noise_jpeg((640, 480))
    cases = [
        ("50 MP JPEG, no resize -> AVIF", big_jpeg, {"format": "avif"}),
        ("50 MP JPEG, no resize -> WebP", big_jpeg, {"format": "webp"}),
        ("50 MP JPEG -> 4096 px AVIF", big_jpeg, {"format": "avif", "width": 4096}),
        ("24 MP JPEG, no resize -> AVIF", mid.getvalue(), {"format": "avif"}),
        ("24 MP JPEG, no resize -> WebP", mid.getvalue(), {"format": "webp"}),
        ("24 MP JPEG, no resize -> lossless WebP", mid.getvalue(), {"format": "webp", "lossless": "true"}),
        ("50 MP PNG -> 4096 px WebP", big_png.getvalue(), {"format": "webp", "width": 4096}),
        (
            "640x480 -> 4096x4096 enlarged AVIF",
            small,
            {"format": "avif", "width": 4096, "height": 4096, "enlarge": "true"},
        ),
        (
            "640x480 -> 4096x4096 enlarged lossless AVIF",
            small,
            {"format": "avif", "width": 4096, "height": 4096, "enlarge": "true", "lossless": "true"},
        ),
        ("300-frame 400x400 GIF -> animated WebP", gif.getvalue(), {"format": "webp"}),
        ("300-frame 400x400 GIF -> animated AVIF", gif.getvalue(), {"format": "avif"}),
    ]
    results = []
    for label, data, fields in cases:
        if len(data) > 10 * 1024 * 1024:
            results.append(
                {"case": label, "skipped": f"upload is {len(data) / 1e6:.1f} MB, over MAX_UPLOAD_MB"}
            )
            continue
        started = time.monotonic()
        with requests.Session() as session:
            response = session.post(
                f"{server.url}/convert",
                headers=server.headers(),
                files={"file": ("upload", data)},
                data=fields,
                timeout=300,
            )
        elapsed = time.monotonic() - started
        entry = {
            "case": label,
            "upload_mb": round(len(data) / 1e6, 1),
            "status": response.status_code,
            "seconds": round(elapsed, 1),
        }
        if response.status_code != 200:
            entry["error"] = response.json()["error"]["code"]
        results.append(entry)
    return results


def worker_rss(server: LiveServer) -> dict[int, int]:
    """Current RSS of each live worker, MiB (a worker recycled mid-read is skipped)."""
    rss = {}
    for pid in server.worker_pids():
        try:
            rss[pid] = int(memory_of(pid)["VmRSS"])
        except OSError:
            continue
    return rss


def soak(server: LiveServer, total: int) -> dict:
    """``total`` mixed conversions from 4 clients; worker RSS sampled as they go."""
    uploads = [noise_jpeg((1600, 1200)), noise_jpeg((800, 600))]
    png = io.BytesIO()
    Image.effect_noise((600, 400), 50).convert("RGBA").save(png, "PNG")
    uploads.append(png.getvalue())
    mixes = [
        {"format": "webp", "width": 1200},
        {"format": "webp", "width": 320},
        {"format": "avif", "width": 800},
        {"format": "jpeg", "width": 640},
        {"format": "png", "width": 200},
        {"format": "webp", "width": 300, "height": 300, "fit": "cover"},
    ]
    outcomes: Counter[str] = Counter()
    samples: list[tuple[int, dict[int, int]]] = []
    counter = iter(range(total))
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with requests.Session() as session:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                outcome = convert(server, session, rng.choice(uploads), **rng.choice(mixes))
                with lock:
                    outcomes[outcome] += 1
                    if index % 50 == 0:
                        samples.append((index, worker_rss(server)))

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    warm = [max(rss.values()) for index, rss in samples if index >= total // 10 and rss]
    log = server.log()
    return {
        "requests": total,
        "outcomes": dict(outcomes),
        "recycled_workers": log.count("Autorestarting worker"),
        "rss_mib_after_warmup_min": min(warm) if warm else None,
        "rss_mib_after_warmup_max": max(warm) if warm else None,
        "rss_ratio_max_over_min": round(max(warm) / min(warm), 2) if warm else None,
        "rss_samples": [(index, sorted(rss.values())) for index, rss in samples],
    }


SECTIONS = ("flood", "probes", "worst", "soak", "lifecycle", "slow", "overload", "upload")


# The memory targets of a worker's life (one worker, MAX_REQUESTS=0), MiB above its starting RSS.
LIFECYCLE_TARGETS = {"after_heavy": 48, "heic_peak": 160, "third_pass": 96, "pass_growth": 0.10}


def lifecycle(corpus: Path | None, before: Path | None) -> dict:
    """bench/lifecycle.py for this checkout (and ``before``, another checkout), with the targets checked."""
    from bench import lifecycle as life

    report = {}
    for label, root in (("now", life.ROOT), ("before", before)):
        if root is None:
            continue
        report[label] = life.measure(corpus, root, {})
    now = report["now"]
    third, first = now["corpus"]["after_each_pass_mib"][-1], now["corpus"]["after_each_pass_mib"][0]
    baseline = now["corpus"]["baseline_mib"]
    heavy = [now[key]["after_minus_baseline"] for key in now if key.endswith(("_x10", "_x5"))]
    report["targets_met"] = {
        "after HEIC / RGBA PNG <= baseline + 48": max(heavy) <= LIFECYCLE_TARGETS["after_heavy"],
        "HEIC peak <= baseline + 160": now["heic_12mp_x10"]["peak_minus_baseline"]
        <= LIFECYCLE_TARGETS["heic_peak"],
        "third pass <= first + 10%": third <= first * (1 + LIFECYCLE_TARGETS["pass_growth"]),
        "third pass <= baseline + 96": third - baseline <= LIFECYCLE_TARGETS["third_pass"],
    }
    return report


def slow_clients(tmp: Path, args, section) -> None:
    """Slow and vanished clients (bench/overload.py): each slow phase; overload as callers behave, shedding on
    and off (bench/shedding.py: a flood, Laravel-like callers, a burst of impatient ones); the largest
    default upload's peak memory."""
    if "slow" in args.only:
        server = start_gunicorn(tmp / "slow", WEB_CONCURRENCY="2", LOG_LEVEL="warning")
        try:
            section("slow", lambda: overload.slow_clients(server))
        finally:
            stop_gunicorn(server)

    section("overload", lambda: shedding.run(tmp, list(shedding.ALL)))

    def upload() -> dict:
        runs = [overload.upload_memory(tmp, ROOT, "now")]
        if args.before:
            runs.insert(0, overload.upload_memory(tmp, args.before, "before"))
        return {"runs": runs}

    section("upload", upload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flood-seconds", type=float, default=60)
    parser.add_argument("--probe-seconds", type=float, default=30)
    parser.add_argument("--soak-requests", type=int, default=2000)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--corpus", type=Path, default=Path("../shared/corpus"), help="for the lifecycle section"
    )
    parser.add_argument(
        "--before", type=Path, help="another checkout to measure the lifecycle section against"
    )
    args = parser.parse_args()
    report: dict = {}

    def section(name: str, run) -> None:
        if name in args.only:
            print(f"{name} ...", flush=True)
            report[name] = run()
            shown = {key: value for key, value in report[name].items() if key != "rss_samples"}
            print(json.dumps(shown), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        server = start_gunicorn(Path(tmp) / "main")
        try:
            section("flood", lambda: flood(server, 32, args.flood_seconds))
            section("probes", lambda: probes_under_load(server, args.probe_seconds))
            section("worst", lambda: {"cases": worst_cases(server)})
            report["main_server_errors_in_log"] = sum(
                '"level":"error"' in line or "WORKER TIMEOUT" in line for line in server.log().splitlines()
            )
        finally:
            stop_gunicorn(server)
        corpus = args.corpus if args.corpus.is_dir() else None
        section("lifecycle", lambda: lifecycle(corpus, args.before))
        slow_clients(Path(tmp), args, section)
        if "soak" in args.only:
            server = start_gunicorn(Path(tmp) / "soak", MAX_REQUESTS="200")
            try:
                section("soak", lambda: soak(server, args.soak_requests))
            finally:
                stop_gunicorn(server)
    write_results(args.json or results_path("stress", args.only, SECTIONS), report)


if __name__ == "__main__":
    main()
