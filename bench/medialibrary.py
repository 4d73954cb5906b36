"""The `medialibrary` part of `make bench`: what PHP pays when spatie/laravel-medialibrary makes a CMS
article's conversions (testing/medialibrary/ImgoptArticle.php: a nonQueued card crop, a 1200 px WebP with
responsive images and their placeholder, a focal AVIF square, a WebP banner) of a 12 MP photo, with
spatie/image's GD driver, its Imagick driver, or imgopt's.

Two processes are measured, as a deployment has them: the request that adds the upload (the nonQueued
conversion runs in it) and the queue worker that makes the rest (`queue:work --once`). Peak RSS is each
process's own (getrusage); seconds are the whole process. Drivers rotate each round. Needs MEDIALIBRARY_APP
(testing/medialibrary_app.py; skipped, saying why, without it); the service has 2 workers and nothing else.

    python -m bench.medialibrary [PHOTO_DIR] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import results_path, write_results
from bench.laravel import twelve_megapixels
from testing.medialibrary_app import DRIVER, missing_app, prepare
from testing.server import start_gunicorn, stop_gunicorn

DRIVERS = {"gd": "gd", "imagick": "imagick", "imgopt": DRIVER}


def one_item(app, photo: Path, driver: str) -> dict:
    """Add the photo to a fresh article (the nonQueued conversion runs here), then work the queue."""
    env = {"IMAGE_DRIVER": driver}
    app.php("return DB::table('jobs')->delete();")
    started = time.monotonic()
    added = app.json(
        "(function () { $a = App\\Models\\ImgoptArticle::create(['title' => 'bench']);"
        f" $a->addMedia('{photo}')->preservingOriginal()->toMediaCollection();"
        " return getrusage()['ru_maxrss']; })()",
        env=env,
    )
    adding_seconds = time.monotonic() - started
    started = time.monotonic()
    worker = app.queue_worker(env)
    return {
        "adding_peak_mib": added / 1024,
        "adding_seconds": adding_seconds,
        "worker_peak_mib": worker / 1024,
        "worker_seconds": time.monotonic() - started,
    }


def measure(photo_dir: Path | None, rounds: int) -> dict:
    why_not = missing_app()
    if why_not is not None:
        print(f"medialibrary: skipped, {why_not}")
        return {"skipped": why_not}
    name, data = twelve_megapixels(photo_dir)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photo = work / "photo.jpg"
        photo.write_bytes(data)
        server = start_gunicorn(work / "service")
        try:
            app = prepare(work / "app", server.url, server.token)
            drivers = list(DRIVERS)
            samples: dict[str, list[dict]] = {driver: [] for driver in drivers}
            for round_index in range(rounds):
                shift = round_index % len(drivers)
                for driver in drivers[shift:] + drivers[:shift]:
                    samples[driver].append(one_item(app, photo, DRIVERS[driver]))
        finally:
            stop_gunicorn(server)
    table = {
        driver: {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}
        for driver, runs in samples.items()
    }
    print(f"\nmedialibrary, the article's conversions of {name}, median of {rounds}:")
    print("| driver | adding request: peak RSS MiB, s | queue worker: peak RSS MiB, s |")
    print("|---|---|---|")
    for driver, row in table.items():
        print(
            f"| {driver} | {row['adding_peak_mib']:.1f}, {row['adding_seconds']:.2f} | "
            f"{row['worker_peak_mib']:.1f}, {row['worker_seconds']:.2f} |"
        )
    return {"photo": name, "rounds": rounds, "drivers": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", nargs="?", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--json", type=Path, default=results_path("medialibrary"), help="default: %(default)s"
    )
    args = parser.parse_args()
    report = measure(args.photos, args.rounds)
    write_results(args.json, report)


if __name__ == "__main__":
    main()
