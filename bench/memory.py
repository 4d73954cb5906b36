"""Allocator settings side by side: throughput against the shipped defaults, interleaved in one run.

Two servers run at once (2 workers each, only one busy at a time): the shipped configuration and a variant
given as environment variables. Blocks of the web (1200 px) and thumbnail (320 px) mixes alternate between
them (ABBA), so drift on a shared machine hits both alike. Both wall-clock throughput and the workers' CPU
time per request (user + system, from /proc: far less noisy on a shared machine) are compared. Memory
after the run is printed for both.

    .venv/bin/python -m bench.memory [CORPUS_DIR] --variant MALLOC_ARENA_MAX=1 [--variant ...] [--blocks 8]
        [--before CHECKOUT]   (the baseline from another checkout; --variant "" for this one unchanged)
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench.common import MIXES, corpus_paths, generated_photos, mix_body, run_service
from testing.server import ROOT, LiveServer, memory_of, start_gunicorn, stop_gunicorn


def cpu_seconds(server: LiveServer) -> float:
    """User + system CPU time of the server's workers so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in server.worker_pids():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def compare(
    photos: list[bytes],
    variant: dict[str, str],
    blocks: int,
    base_env: dict[str, str],
    base_root: Path = ROOT,
) -> dict:
    """Throughput of the variant over the baseline per mix, and both sides' worker memory. ``base_root``
    runs the baseline from another checkout (the previous version, say)."""
    with tempfile.TemporaryDirectory() as tmp:
        base = start_gunicorn(
            Path(tmp) / "base", base_root, WEB_CONCURRENCY="2", LOG_LEVEL="warning", **base_env
        )
        other = start_gunicorn(
            Path(tmp) / "variant", WEB_CONCURRENCY="2", LOG_LEVEL="warning", **{**base_env, **variant}
        )
        try:
            report = {}
            for mix in MIXES:
                bodies = [mix_body(photo, mix) for photo in photos]
                seconds = {"base": 0.0, "variant": 0.0}
                cpu = {"base": 0.0, "variant": 0.0}
                count = {"base": 0, "variant": 0}
                for _side, server in (("base", base), ("variant", other)):  # warm-up
                    run_service(server, bodies[:2], 1)
                for block in range(blocks):
                    order = (("base", base), ("variant", other))
                    for side, server in order if block % 2 == 0 else reversed(order):
                        started = cpu_seconds(server)
                        result = run_service(server, bodies, 1)
                        cpu[side] += cpu_seconds(server) - started
                        seconds[side] += result["seconds"]
                        count[side] += result["count"]
                rates = {side: count[side] / seconds[side] for side in seconds}
                per_request = {side: cpu[side] / count[side] for side in cpu}
                report[mix.name] = {
                    "base_per_second": rates["base"],
                    "variant_per_second": rates["variant"],
                    "ratio": rates["variant"] / rates["base"],
                    "base_cpu_ms": per_request["base"] * 1000,
                    "variant_cpu_ms": per_request["variant"] * 1000,
                    "cpu_ratio": per_request["variant"] / per_request["base"],
                }
            report["memory_mib"] = {
                side: {
                    "peak": max(memory_of(pid)["VmHWM"] for pid in server.worker_pids()),
                    "rss_after": max(memory_of(pid)["VmRSS"] for pid in server.worker_pids()),
                }
                for side, server in (("base", base), ("variant", other))
            }
        finally:
            stop_gunicorn(base)
            stop_gunicorn(other)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path)
    parser.add_argument("--variant", action="append", default=[], help="space-separated KEY=VALUE list")
    parser.add_argument("--base", default="", help="KEY=VALUE list for both sides")
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--before", type=Path, default=ROOT, help="run the baseline from this checkout")
    args = parser.parse_args()
    photos = (
        [path.read_bytes() for path in corpus_paths(args.corpus)] if args.corpus else generated_photos(False)
    )
    base_env = dict(item.split("=", 1) for item in args.base.split())
    print(
        "| variant | web req/s, variant / base | web CPU a request | thumbnails req/s | thumbnails CPU "
        "| peak RSS MiB base / variant | RSS after |"
    )
    print("|---|---|---|---|---|---|---|")
    for text in args.variant:
        variant = dict(item.split("=", 1) for item in text.split())  # "" means this checkout as it is
        report = compare(photos, variant, args.blocks, base_env, args.before)
        memory = report["memory_mib"]
        print(
            f"| {text} | {report['web']['ratio']:.3f} | {report['web']['cpu_ratio']:.3f} "
            f"| {report['thumbnails']['ratio']:.3f} | {report['thumbnails']['cpu_ratio']:.3f} "
            f"| {memory['base']['peak']:.0f} / {memory['variant']['peak']:.0f} "
            f"| {memory['base']['rss_after']:.0f} / {memory['variant']['rss_after']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
