"""The `idle` part of `make bench`: what lending idle cores to a request's renditions buys, and costs.

Two servers side by side, 2 workers each, the same settings but RENDITION_THREADS (the default, the core
count, against 1: every rendition on the request's own thread). Only one is busy at a time.

- idle: one client sends each photo's set and waits, median latency over the repetitions (upload included),
  for the CMS set (320/768/1200/1920 px x WebP + AVIF) and the WebP-only set; the two servers alternate.
- loaded: 4 clients in a closed loop send the CMS set; renditions per second and worker peak RSS.
- in process: both sets made by render_set itself (no HTTP), on lent threads against one, median of the
  repetitions: what the scheduling of one request's tasks gives without the upload and the response.
- sharp: the WebP set made in process by sharp with Promise.all (libvips; `npm install --prefix
  bench/sharp` brings it), when it is installed; the anchor a Node service would be.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench.common import closed_loop, post
from bench.sets import WIDTHS
from imgopt.imaging.context import RequestContext
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.parallel import lend_none, lend_up_to
from imgopt.imaging.pipeline import render_set
from testing.http import multipart
from testing.server import LiveServer, memory_of, start_gunicorn, stop_gunicorn
from testing.settings import pipeline_settings

SHARP_DIR = Path(__file__).parent / "sharp"
SETS = {
    "cms": [
        {"name": f"{fmt}-{width}", "format": fmt, "width": width}
        for width in WIDTHS
        for fmt in ("webp", "avif")
    ],
    "webp": [{"name": f"webp-{width}", "format": "webp", "width": width} for width in WIDTHS],
}
SIDES = ("threads", "one")


def post_set(server: LiveServer, body: tuple[bytes, str]) -> float:
    return post(server, "/variants", body)


def idle_latency(servers: dict[str, LiveServer], photos: list[bytes], names: list[str], reps: int) -> dict:
    table: dict = {}
    for set_name, variants in SETS.items():
        rows = []
        for name, photo in zip(names, photos, strict=True):
            body = multipart(photo, {"variants": json.dumps(variants)})
            samples: dict[str, list[float]] = {side: [] for side in SIDES}
            for side in SIDES:
                post_set(servers[side], body)  # warm-up
            for rep in range(reps):
                for side in SIDES if rep % 2 == 0 else tuple(reversed(SIDES)):
                    samples[side].append(post_set(servers[side], body))
            medians = {side: statistics.median(values) * 1000 for side, values in samples.items()}
            rows.append({"photo": name, **{f"{side}_ms": ms for side, ms in medians.items()}})
            rows[-1]["ratio"] = medians["threads"] / medians["one"]
        table[set_name] = rows
    return table


def in_process(photos: list[bytes], names: list[str], reps: int) -> dict:
    """Each set by render_set, lending every other core against lending none, alternating; median ms."""
    settings = pipeline_settings()
    borrows = {"threads": lend_up_to(multiprocessing.cpu_count() - 1), "one": lend_none}
    table: dict = {}
    for set_name, variants in SETS.items():
        requests = [
            (item["name"], ConvertOptions(format=item["format"], width=item["width"])) for item in variants
        ]
        rows = []
        for name, photo in zip(names, photos, strict=True):
            samples: dict[str, list[float]] = {side: [] for side in SIDES}
            for rep in range(reps + 1):
                for side in SIDES if rep % 2 == 0 else tuple(reversed(SIDES)):
                    started = time.perf_counter()
                    render_set(photo, requests, settings, RequestContext(borrow=borrows[side]))
                    if rep:  # the first pass warms up
                        samples[side].append(time.perf_counter() - started)
            medians = {side: statistics.median(values) * 1000 for side, values in samples.items()}
            rows.append({"photo": name, **{f"{side}_ms": ms for side, ms in medians.items()}})
            rows[-1]["ratio"] = medians["threads"] / medians["one"]
        table[set_name] = rows
    return table


def loaded_throughput(servers: dict[str, LiveServer], photos: list[bytes], rounds: int, reps: int) -> dict:
    bodies = [multipart(photo, {"variants": json.dumps(SETS["cms"])}) for photo in photos]
    seconds = {side: 0.0 for side in SIDES}
    for round_index in range(rounds):
        for side in SIDES if round_index % 2 == 0 else tuple(reversed(SIDES)):
            jobs = [body for _ in range(reps) for body in bodies]
            seconds[side] += closed_loop(
                jobs, lambda body, side=side: post_set(servers[side], body), clients=4
            )
    renditions = rounds * reps * len(bodies) * len(SETS["cms"])
    report = {
        side: {
            "renditions_per_second": renditions / seconds[side],
            "worker_peak_rss_mib": max(memory_of(pid)["VmHWM"] for pid in servers[side].worker_pids()),
        }
        for side in SIDES
    }
    report["ratio"] = report["threads"]["renditions_per_second"] / report["one"]["renditions_per_second"]
    return report


def sharp_latency(paths: list[Path] | None, reps: int) -> dict[str, float] | None:
    """Median ms per photo for sharp's Promise.all WebP set, or None without node and sharp."""
    node = shutil.which("node")
    if node is None or paths is None or not (SHARP_DIR / "node_modules" / "sharp").is_dir():
        return None
    completed = subprocess.run(
        [node, str(SHARP_DIR / "webp_set.mjs"), str(reps), *(str(path.resolve()) for path in paths)],
        capture_output=True,
        text=True,
        check=True,
        cwd=SHARP_DIR,
    )
    return json.loads(completed.stdout)


def run(
    tmp: Path,
    photos: list[bytes],
    names: list[str],
    paths: list[Path] | None,
    *,
    rounds: int,
    reps: int,
    server_env: dict[str, str],
) -> dict:
    sharp = sharp_latency(paths, max(3, reps + 2))
    env = {"WEB_CONCURRENCY": "2", "LOG_LEVEL": "warning", **server_env}
    servers = {
        "threads": start_gunicorn(tmp / "threads", **env),
        "one": start_gunicorn(tmp / "one", **{**env, "RENDITION_THREADS": "1"}),
    }
    try:
        idle = idle_latency(servers, photos, names, max(3, reps + 2))
        loaded = loaded_throughput(servers, photos, rounds, reps)
    finally:
        for server in servers.values():
            stop_gunicorn(server)
    report = {
        "idle": idle,
        "in_process": in_process(photos, names, max(3, reps + 1)),
        "loaded": loaded,
        "sharp_webp_ms": sharp,
    }
    print_report(report)
    return report


def print_sets(table: dict, title: str, sharp: dict[str, float]) -> None:
    """One table per set: each photo on lent threads and on one, and the ratio."""
    for set_name, rows in table.items():
        label = "CMS set (4 widths x WebP + AVIF)" if set_name == "cms" else "WebP set (4 widths)"
        print("\n" + title.format(label))
        header = f"{'photo':34} {'threads':>9} {'1 thread':>9} {'ratio':>7}"
        print(header + (f" {'sharp Promise.all':>18}" if set_name == "webp" and sharp else ""))
        for row in rows:
            line = f"{row['photo']:34} {row['threads_ms']:9.0f} {row['one_ms']:9.0f} {row['ratio']:7.3f}"
            if set_name == "webp" and row["photo"] in sharp:
                line += f" {sharp[row['photo']]:15.0f} ms"
            print(line)
        ratios = [row["ratio"] for row in rows]
        print(f"{'median ratio':34} {'':19} {statistics.median(ratios):7.3f}")


def print_report(report: dict) -> None:
    sharp = report["sharp_webp_ms"] or {}
    print_sets(report["idle"], "idle, one client, {}, /variants median ms (upload included):", sharp)
    print_sets(report["in_process"], "in process, {}, render_set median ms:", {})
    loaded = report["loaded"]
    print("\nloaded, 4 clients closed loop, CMS set:")
    for side in SIDES:
        label = "RENDITION_THREADS default" if side == "threads" else "RENDITION_THREADS=1"
        row = loaded[side]
        print(
            f"  {label:26} {row['renditions_per_second']:6.2f} renditions/s,"
            f" worker peak RSS {row['worker_peak_rss_mib']:.0f} MiB"
        )
    print(f"  ratio {loaded['ratio']:.3f}")
