"""The `autolatency` part of `make bench`: what quality=auto costs against a fixed quality, for a 1200 px
`/convert` of each photo, in WebP and in AVIF, where a CMS editor feels it.

- Idle, one client: each photo sent at q80 and with quality=auto, interleaved, median of ``reps``, summed;
  both ride the cores no other request is using (a fixed AVIF gives its lent core to libaom).
- Loaded, four clients in a closed loop on the 2 workers: nothing is lent; the wall time of every photo
  ``reps`` times at q80 against the same with quality=auto.
- In process (decode to encode, no HTTP): the same pairs with no thread lent and with one.

With ``--baseline CHECKOUT`` the HTTP figures are measured for that checkout too, in the same run.

    python -m bench.autoquality_latency [PHOTO_DIR] [--reps 3] [--baseline CHECKOUT] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import closed_loop, corpus_paths, generated_photos, post, results_path, write_results
from imgopt.imaging.context import RequestContext
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.parallel import lend_none, lend_up_to
from imgopt.imaging.pipeline import convert
from testing.http import multipart
from testing.server import ROOT, start_gunicorn, stop_gunicorn
from testing.settings import pipeline_settings

FORMATS = ("webp", "avif")
WIDTH = "1200"


def bodies(photos: list[bytes], fmt: str) -> dict[str, list]:
    return {
        mode: [multipart(photo, {"format": fmt, "width": WIDTH, "quality": quality}) for photo in photos]
        for mode, quality in (("fixed", "80"), ("auto", "auto"))
    }


def idle(server, photos: list[bytes], reps: int) -> dict:
    """Per format: summed medians of one client's requests, and auto over fixed."""
    report = {}
    for fmt in FORMATS:
        sums = {"fixed": 0.0, "auto": 0.0}
        prepared = bodies(photos, fmt)
        for index in range(len(photos)):
            for mode in sums:
                post(server, "/convert", prepared[mode][index])  # warm-up
            times: dict[str, list[float]] = {"fixed": [], "auto": []}
            for rep in range(reps):
                for mode in ("fixed", "auto") if rep % 2 == 0 else ("auto", "fixed"):
                    times[mode].append(post(server, "/convert", prepared[mode][index]))
            for mode in sums:
                sums[mode] += statistics.median(times[mode])
        report[fmt] = {"fixed_ms": round(sums["fixed"] * 1000), "auto_ms": round(sums["auto"] * 1000)}
        report[fmt]["ratio"] = round(sums["auto"] / sums["fixed"], 3)
    return report


def loaded(server, photos: list[bytes], reps: int) -> dict:
    """Per format: the wall time of four clients sending every photo ``reps`` times, auto over fixed."""
    report = {}
    for fmt in FORMATS:
        prepared = bodies(photos, fmt)
        walls = {"fixed": 0.0, "auto": 0.0}
        for rep in range(2):
            for mode in ("fixed", "auto") if rep % 2 == 0 else ("auto", "fixed"):
                jobs = [body for _ in range(reps) for body in prepared[mode]]
                walls[mode] += closed_loop(jobs, lambda body: post(server, "/convert", body), clients=4)
        report[fmt] = {"fixed_s": round(walls["fixed"], 2), "auto_s": round(walls["auto"], 2)}
        report[fmt]["ratio"] = round(walls["auto"] / walls["fixed"], 3)
    return report


def in_process(photos: list[bytes], reps: int) -> dict:
    """Per format and threads lent (0 or 1): summed medians in process, auto over fixed."""
    settings = pipeline_settings()
    report = {}
    for fmt in FORMATS:
        for lent, borrow in ((0, lend_none), (1, lend_up_to(1))):
            sums = {"fixed": 0.0, "auto": 0.0}
            for photo in photos:
                options = {
                    "fixed": ConvertOptions(format=fmt, width=int(WIDTH), quality=80),
                    "auto": ConvertOptions(format=fmt, width=int(WIDTH), auto_quality=True),
                }
                times: dict[str, list[float]] = {"fixed": [], "auto": []}
                for rep in range(reps + 1):
                    for mode in ("fixed", "auto") if rep % 2 == 0 else ("auto", "fixed"):
                        started = time.perf_counter()
                        convert(photo, options[mode], settings, context=RequestContext(borrow=borrow))
                        if rep:  # the first is a warm-up
                            times[mode].append(time.perf_counter() - started)
                for mode in sums:
                    sums[mode] += statistics.median(times[mode])
            key = f"{fmt}_lent_{lent}"
            report[key] = {"fixed_ms": round(sums["fixed"] * 1000), "auto_ms": round(sums["auto"] * 1000)}
            report[key]["ratio"] = round(sums["auto"] / sums["fixed"], 3)
    return report


def run(photos: list[bytes], reps: int, baseline: Path | None = None) -> dict:
    report: dict = {"in_process": in_process(photos, reps)}
    checkouts = {"this": ROOT, **({"baseline": baseline.resolve()} if baseline else {})}
    with tempfile.TemporaryDirectory() as tmp:
        for label, root in checkouts.items():
            server = start_gunicorn(Path(tmp) / label, root, WEB_CONCURRENCY="2", LOG_LEVEL="warning")
            try:
                report[label] = {"idle": idle(server, photos, reps), "loaded": loaded(server, photos, reps)}
            finally:
                stop_gunicorn(server)
    print_report(report)
    return report


def print_report(report: dict) -> None:
    print("\nquality=auto over q80, 1200 px /convert, summed over the photos")
    print("\n| where | WebP | AVIF |\n|---|---|---|")
    for label in ("this", "baseline"):
        if label not in report:
            continue
        for mode in ("idle", "loaded"):
            cells = [f"{report[label][mode][fmt]['ratio']:.2f}x" for fmt in FORMATS]
            what = "idle, 1 client" if mode == "idle" else "loaded, 4 clients"
            print(f"| {label}, HTTP, {what} | " + " | ".join(cells) + " |")
    for lent in (0, 1):
        cells = [f"{report['in_process'][f'{fmt}_lent_{lent}']['ratio']:.2f}x" for fmt in FORMATS]
        print(f"| this, in process, {lent} thread lent | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", nargs="?", type=Path)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument(
        "--json", type=Path, default=results_path("autoquality_latency"), help="default: %(default)s"
    )
    args = parser.parse_args()

    if args.photos is not None:
        photos = [path.read_bytes() for path in corpus_paths(args.photos)]
    else:
        photos = generated_photos(smoke=False)
    report = run(photos, args.reps, args.baseline)
    write_results(args.json, report)


if __name__ == "__main__":
    main()
