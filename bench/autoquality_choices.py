"""The `autochoices` part of `make bench`: what quality=auto chooses and how many encodes it takes, against
another checkout's search on the same requests.

Each image at 1200 px (narrower ones at their own width) in WebP and AVIF, target 75: the corpus photos (or
generated photo-like JPEGs) and the images bench/quality_model.py makes (graphics, a UI screenshot, text,
flags, a gradient, grain, flat colour, transparency). For this checkout: the quality, exact score, bytes and
probes (encodes the search made; 1 is a hit: the predicted quality was enough). With ``--baseline
CHECKOUT``: that checkout's quality, score and bytes for the same request, made in its own process.

Per class and format: the hit rate, mean probes, the worst score less the target, and bytes against the
baseline's (mean of the per-image ratios).

    python -m bench.autoquality_choices [PHOTO_DIR] [--baseline CHECKOUT] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import corpus_paths, generated_photos, markdown_table, results_path, write_results
from bench.quality_model import made_images
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from testing.settings import pipeline_settings

FORMATS = ("webp", "avif")
WIDTH = 1200
TARGET = 75.0

# Run by the baseline checkout's own Python path: each image's choice as JSON, one line per image and format.
BASELINE_SCRIPT = """
import json, sys
from pathlib import Path
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from testing.settings import pipeline_settings

settings = pipeline_settings(max_decode_bytes=8 << 30)
for path in sorted(Path(sys.argv[1]).iterdir()):
    for fmt in sys.argv[2].split(","):
        width, target = int(sys.argv[3]), float(sys.argv[4])
        options = ConvertOptions(format=fmt, width=width, auto_quality=True, target=target)
        made = convert(path.read_bytes(), options, settings).rendition
        print(json.dumps({"image": path.name, "format": fmt, "quality": made.quality, "score": made.score,
                          "bytes": len(made.data)}), flush=True)
"""


def image_set(photo_dir: Path | None) -> dict[str, tuple[str, bytes]]:
    """name -> (class, bytes): the photos and the made images."""
    if photo_dir is not None:
        photos = {path.name: path.read_bytes() for path in corpus_paths(photo_dir)}
    else:
        photos = {f"generated-{index}.jpg": data for index, data in enumerate(generated_photos(smoke=False))}
    return {**{name: ("photo", data) for name, data in photos.items()}, **made_images()}


def this_checkout(images: dict[str, tuple[str, bytes]]) -> list[dict]:
    settings = pipeline_settings(max_decode_bytes=8 << 30)
    rows = []
    for name, (kind, data) in images.items():
        for fmt in FORMATS:
            options = ConvertOptions(format=fmt, width=WIDTH, auto_quality=True, target=TARGET)
            made = convert(data, options, settings).rendition
            rows.append(
                {
                    "image": name,
                    "class": kind,
                    "format": fmt,
                    "quality": made.quality,
                    "score": made.score,
                    "bytes": len(made.data),
                    "probes": made.probes,
                }
            )
            print(f"  {name} {fmt}: q{made.quality} score {made.score} probes {made.probes}", flush=True)
    return rows


def baseline_checkout(images: dict[str, tuple[str, bytes]], checkout: Path) -> dict[tuple[str, str], dict]:
    with tempfile.TemporaryDirectory() as tmp:
        for name, (_kind, data) in images.items():
            (Path(tmp) / name).write_bytes(data)
        found = subprocess.run(
            [sys.executable, "-c", BASELINE_SCRIPT, tmp, ",".join(FORMATS), str(WIDTH), str(TARGET)],
            cwd=checkout,
            env={**os.environ, "PYTHONPATH": str(checkout)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    rows = [json.loads(line) for line in found.splitlines() if line.startswith("{")]
    return {(row["image"], row["format"]): row for row in rows}


def summary(rows: list[dict]) -> list[list[object]]:
    table = []
    classes = ["photo", *sorted({row["class"] for row in rows} - {"photo"})]
    for kind in [*classes, "all"]:
        for fmt in FORMATS:
            chosen = [row for row in rows if row["format"] == fmt and kind in ("all", row["class"])]
            if not chosen:
                continue
            hits = sum(row["probes"] == 1 for row in chosen)
            cells = [
                kind,
                fmt,
                len(chosen),
                f"{hits}/{len(chosen)}",
                f"{statistics.mean(row['probes'] for row in chosen):.2f}",
                f"{min(row['score'] - TARGET for row in chosen):+.2f}",
            ]
            if all("baseline" in row for row in chosen):
                cells.append(
                    f"{statistics.mean(row['bytes'] / row['baseline']['bytes'] for row in chosen):.3f}"
                )
                cells.append(f"{min(row['baseline']['score'] - TARGET for row in chosen):+.2f}")
            table.append(cells)
    return table


HEADER = ["class", "format", "images", "hits", "mean probes", "worst score - target", "bytes / baseline's"]


def run(photo_dir: Path | None, baseline: Path | None) -> dict:
    images = image_set(photo_dir)
    rows = this_checkout(images)
    if baseline is not None:
        theirs = baseline_checkout(images, baseline.resolve())
        for row in rows:
            row["baseline"] = theirs[row["image"], row["format"]]
    table = summary(rows)
    header = HEADER if baseline is not None else HEADER[:-1]
    if baseline is not None:
        header = [*header, "baseline's worst score - target"]
    print(markdown_table(header, table))
    return {"rows": rows, "summary": [dict(zip(header, row, strict=True)) for row in table]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", nargs="?", type=Path)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument(
        "--json", type=Path, default=results_path("autoquality_choices"), help="default: %(default)s"
    )
    args = parser.parse_args()
    write_results(args.json, run(args.photos, args.baseline))


if __name__ == "__main__":
    main()
