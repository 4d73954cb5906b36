"""Where one thumbnail request's time goes: the phases its log line gives, against the raw bound's time.

One client sends one photo as a 320 px WebP q75 `/convert` (the thumbnails mix of bench/bench.py) ``reps``
times to a server at LOG_LEVEL=info; the medians of what the client saw and of the log line's
`duration_ms` (in the worker), `upload_ms` (reading and parsing the upload) and `pipeline_ms`, beside the
bound's in-process time for the same photo. With ``--baseline CHECKOUT`` that checkout's server is measured
in the same run, the two alternating.

    python -m bench.phases [PHOTO] [--reps 15] [--baseline CHECKOUT] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import (
    Mix,
    bound_convert,
    bound_init,
    generated_photos,
    mix_body,
    post,
    results_path,
    write_results,
)
from testing.server import ROOT, start_gunicorn, stop_gunicorn

THUMBNAILS = Mix("thumbnails", 320, 75)
PHASES = ("duration_ms", "upload_ms", "pipeline_ms")


def bound_ms(photo: bytes, reps: int) -> float:
    """The raw bound's median time for the photo, in this process."""
    bound_init([photo])
    times = []
    for _ in range(reps + 1):
        started = time.perf_counter()
        bound_convert((0, THUMBNAILS.width, THUMBNAILS.quality))
        times.append(time.perf_counter() - started)
    return round(statistics.median(times[1:]) * 1000, 1)


def run(photo: bytes, reps: int, baseline: Path | None = None) -> dict:
    body = mix_body(photo, THUMBNAILS)
    checkouts = {"this": ROOT, **({"baseline": baseline.resolve()} if baseline else {})}
    report: dict = {"bound_ms": bound_ms(photo, reps), "source_bytes": len(photo)}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {
            label: start_gunicorn(Path(tmp) / label, root, WEB_CONCURRENCY="2", LOG_LEVEL="info")
            for label, root in checkouts.items()
        }
        try:
            client: dict[str, list[float]] = {label: [] for label in servers}
            for rep in range(reps + 1):
                for label, server in servers.items():
                    seconds = post(server, "/convert", body)
                    if rep:  # the first is a warm-up
                        client[label].append(seconds)
            for label, server in servers.items():
                lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
                logged = [line for line in lines if line.get("upload_ms") is not None][1:]
                report[label] = {"client_ms": round(statistics.median(client[label]) * 1000, 1)}
                for phase in PHASES:
                    report[label][phase] = round(statistics.median(line[phase] for line in logged), 1)
        finally:
            for server in servers.values():
                stop_gunicorn(server)
    print_report(report)
    return report


def print_report(report: dict) -> None:
    print(f"\none 320 px WebP q75 /convert, one client; the bound in process: {report['bound_ms']} ms")
    print("\n| checkout | client sees | in the worker | reading the upload | pipeline |")
    print("|---|---|---|---|---|")
    for label in ("this", "baseline"):
        if label in report:
            row = report[label]
            cells = [row["client_ms"], *(row[phase] for phase in PHASES)]
            print(f"| {label} | " + " | ".join(f"{cell} ms" for cell in cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photo", nargs="?", type=Path)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--json", type=Path, default=results_path("phases"), help="default: %(default)s")
    args = parser.parse_args()
    photo = args.photo.read_bytes() if args.photo else generated_photos(smoke=False)[0]
    report = run(photo, args.reps, args.baseline)
    write_results(args.json, report)


if __name__ == "__main__":
    main()
