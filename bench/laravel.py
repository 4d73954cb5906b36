"""The `laravel` part of `make bench`: what a PHP process pays for the CMS set of one 12 MP photo, made in
process with GD or Imagick, or by the package (clients/laravel) through the service; and imgopt:regenerate
over the photos at concurrency 1 and 4.

The package runs in the Laravel 8.83 app tests/test_laravel_package.py uses (testing/laravel_app.py), with
Imgopt::store() writing to its public disk. Peak RSS is the PHP process's (getrusage), wall time is the work
alone (inside the process) and the whole process (from the outside, PHP and Laravel starting included).
Sides rotate each round; the service has 2 workers and nothing else to do.

    python -m bench.laravel [PHOTO_DIR] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from testing import images
from testing.laravel_app import PHP, LaravelApp, build_app, missing_tools
from testing.server import start_gunicorn, stop_gunicorn

IN_PROCESS = Path(__file__).parent / "laravel" / "in_process.php"


def twelve_megapixels(photo_dir: Path | None) -> tuple[str, bytes]:
    """The corpus's 12 MP phone photo, or a generated 4032x3024 one."""
    if photo_dir is not None:
        for path in sorted(photo_dir.glob("*.jpg")):
            if "4032x3024" in path.name:
                return path.name, path.read_bytes()
    return "generated 4032x3024", images.photo((4032, 3024))


def run_engine(engine: str, app: LaravelApp, photo: Path, out: Path) -> dict:
    started = time.monotonic()
    if engine == "package":
        code = (
            "$t = microtime(true); Imgopt::store('" + str(photo) + "', 'default', 'bench');"
            " return json_encode(['seconds' => microtime(true) - $t,"
            " 'peak_rss_kib' => getrusage()['ru_maxrss']]);"
        )
        stdout = app.php(code)
    else:
        stdout = subprocess.run(
            [PHP, str(IN_PROCESS), engine, str(photo), str(out)], capture_output=True, text=True, check=True
        ).stdout
    result = json.loads(stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.monotonic() - started
    return result


def available_engines() -> tuple[str, ...]:
    """The package always; GD and Imagick when PHP has them (apt-get install php-gd php-imagick)."""
    probe = "echo json_encode([function_exists('imageavif'), extension_loaded('imagick')]);"
    answer = subprocess.run([PHP, "-r", probe], capture_output=True, text=True, check=True).stdout
    gd, imagick = json.loads(answer)
    engines = (*(name for name, present in (("gd", gd), ("imagick", imagick)) if present), "package")
    for name in {"gd", "imagick"} - set(engines):
        print(f"laravel: {name} left out, PHP lacks it (apt-get install php-{name})")
    return engines


def in_process_table(app: LaravelApp, photo: Path, out: Path, rounds: int) -> dict:
    engines = available_engines()
    samples: dict[str, list[dict]] = {engine: [] for engine in engines}
    for round_index in range(rounds):
        shift = round_index % len(engines)
        order = engines[shift:] + engines[:shift]
        for engine in order:
            samples[engine].append(run_engine(engine, app, photo, out))
    table = {}
    for engine, runs in samples.items():
        table[engine] = {
            "peak_rss_mib": statistics.median(run["peak_rss_kib"] for run in runs) / 1024,
            "work_seconds": statistics.median(run["seconds"] for run in runs),
            "process_seconds": statistics.median(run["process_seconds"] for run in runs),
        }
    return table


def regenerate_table(app: LaravelApp, photos: list[tuple[str, bytes]], rounds: int) -> dict:
    uploads = app.root / "storage" / "app" / "uploads"
    rows = []
    for index, (name, data) in enumerate(photos):
        (uploads / f"corpus-{index}-{name}").write_bytes(data)
        rows.append({"title": name, "cover_path": f"corpus-{index}-{name}"})
    app.php(
        "Photo::query()->delete(); Photo::withoutEvents(fn () => array_map([Photo::class, 'create'], "
        f"json_decode('{json.dumps(rows)}', true)));"
    )
    samples: dict[int, list[float]] = {1: [], 4: []}
    for round_index in range(rounds):
        for concurrency in (1, 4) if round_index % 2 == 0 else (4, 1):
            started = time.monotonic()
            app.artisan("imgopt:regenerate", "Photo", f"--concurrency={concurrency}")
            samples[concurrency].append(time.monotonic() - started)
    return {
        str(concurrency): {
            "seconds": statistics.median(runs),
            "photos_per_second": len(photos) / statistics.median(runs),
        }
        for concurrency, runs in samples.items()
    }


def run(photo_dir: Path | None, rounds: int) -> dict | None:
    why_not = missing_tools()
    if why_not is not None:
        print(f"laravel: skipped, {why_not}")
        return None
    name, data = twelve_megapixels(photo_dir)
    if photo_dir is not None:
        corpus = [(path.name, path.read_bytes()) for path in sorted(photo_dir.iterdir()) if path.is_file()]
    else:
        corpus = [(f"generated-{i}.jpg", images.photo((3000 + 200 * i, 2000 + 150 * i))) for i in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = start_gunicorn(work / "service", WEB_CONCURRENCY="2", LOG_LEVEL="warning")
        try:
            app = build_app(work / "app", server.url, server.token)
            photo = work / "photo.jpg"
            photo.write_bytes(data)
            out = work / "out"
            out.mkdir()
            table = in_process_table(app, photo, out, rounds)
            regenerate = regenerate_table(app, corpus, rounds)
        finally:
            stop_gunicorn(server)
            shutil.rmtree(work / "app", ignore_errors=True)
    print_report(name, table, regenerate, len(corpus), rounds)
    return {"photo": name, "in_process": table, "regenerate": regenerate, "photos": len(corpus)}


def print_report(name: str, table: dict, regenerate: dict, photos: int, rounds: int) -> None:
    print(f"\nThe CMS set (4 widths x WebP + AVIF, q80) of {name} in a PHP process, median of {rounds}:")
    print(f"{'':34} {'peak RSS':>10} {'work':>8} {'process':>9}")
    labels = {
        "gd": "GD in process",
        "imagick": "Imagick in process",
        "package": "imgopt/laravel through the service",
    }
    for engine, row in table.items():
        print(
            f"{labels[engine]:34} {row['peak_rss_mib']:7.0f} MiB {row['work_seconds']:6.2f} s"
            f" {row['process_seconds']:7.2f} s"
        )
    print(f"\nimgopt:regenerate over {photos} photos (2 service workers), median of {rounds}:")
    for concurrency, row in regenerate.items():
        print(
            f"  --concurrency={concurrency}: {row['seconds']:6.2f} s, {row['photos_per_second']:.2f} photos/s"
        )
    ratio = regenerate["1"]["seconds"] / regenerate["4"]["seconds"]
    print(f"  concurrency 4 is {ratio:.2f}x as fast as 1")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", nargs="?", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run(args.corpus, args.rounds)


if __name__ == "__main__":
    main()
