"""The time each operation adds to a 1200 px conversion, as a ratio of the same conversion without it, in
process (imgopt.imaging.pipeline.convert), one thread, the two alternating; and what one pass over a frame
costs, which imgopt/imaging/limits.py's PASS_MEGAPIXELS_PER_SECOND rounds down.

    .venv/bin/python -m bench.operations [PHOTO_DIR] [--reps 7] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from PIL import Image

from bench.common import corpus_paths, generated_photos, markdown_table, results_path, write_results
from imgopt.imaging import operations
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from testing import images
from testing.settings import pipeline_settings

CASES = (
    "sharpen(10)",
    "blur(1)",
    "blur(5)",
    "greyscale",
    "sepia",
    "brightness(20)",
    "contrast(20)",
    "gamma(1.5)",
    "colorize(20, 0, -20)",
    "pixelate(10)",
    "flip(horizontal)",
    "orientation(90)",
    "border(0, overlay, #ffffff)",
    "border(10, expand, #ffffff)",
    "border(10, shrink, #ffffff)",
    "watermark(position=bottom-right, padding_x=2, padding_y=2, padding_unit=percent, width=15, "
    "width_unit=percent, alpha=60)",
)


def run(photos: list[bytes], reps: int) -> dict:
    settings = pipeline_settings(rendition_threads=1)
    mark = images.encode(Image.new("RGBA", (400, 200), (255, 255, 255, 160)), "PNG")
    plain = ConvertOptions(width=1200)
    rows = []
    for case in CASES:
        options = ConvertOptions(width=1200, operations=operations.parse(case, {"watermark": mark}))
        seconds: dict[str, list[float]] = {"plain": [], "with": []}
        for rep in range(reps):
            for side in ("plain", "with") if rep % 2 == 0 else ("with", "plain"):
                started = time.perf_counter()
                for photo in photos:
                    convert(photo, plain if side == "plain" else options, settings)
                seconds[side].append(time.perf_counter() - started)
        plain_ms = statistics.median(seconds["plain"]) * 1000 / len(photos)
        with_ms = statistics.median(seconds["with"]) * 1000 / len(photos)
        rows.append(
            {
                "operation": case.split("(")[0] if case.startswith("watermark") else case,
                "plain_ms": round(plain_ms, 1),
                "with_ms": round(with_ms, 1),
                "ratio": round(with_ms / plain_ms, 3),
            }
        )
        print(rows[-1], flush=True)
    return {"photos": len(photos), "reps": reps, "width": 1200, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", nargs="?", type=Path)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.photos:
        photos = [path.read_bytes() for path in corpus_paths(args.photos) if path.suffix.lower() == ".jpg"]
    else:
        photos = generated_photos(smoke=False)
    report = run(photos, args.reps)
    header = ["operation", "1200 px without, ms", "with, ms", "with / without"]
    print(
        markdown_table(
            header, [[r["operation"], r["plain_ms"], r["with_ms"], r["ratio"]] for r in report["rows"]]
        )
    )
    write_results(args.json or results_path("operations"), report)


if __name__ == "__main__":
    main()
