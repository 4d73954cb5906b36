"""Measure AVIF encoders: codec x speed x quality -> encode ms, bytes and SSIMULACRA2, one thread.

Each photo is first taken through our pipeline to 1200 px (decode, orient, sRGB, resize) and saved losslessly;
that is the reference every encoding is scored against.

    .venv/bin/python -m bench.avif_table ../shared/corpus/photos [--json results.json] [--quick]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench.common import results_path, write_results
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from imgopt.imaging.source import register_plugins
from testing.settings import pipeline_settings

# (codec, speed, quality); rav1e speed 6 at q80 is what the Rust service used: the baseline.
GRID = [
    ("rav1e", 6, 80),
    ("aom", 6, 80),
    ("aom", 8, 70),
    ("aom", 8, 80),
    ("aom", 9, 60),
    ("aom", 9, 70),
    ("aom", 9, 80),
    ("aom", 9, 85),
    ("aom", 10, 80),
    ("svt", 8, 70),
    ("svt", 8, 80),
    ("svt", 8, 85),
    ("svt", 10, 80),
    ("svt", 10, 85),
]
# Finer steps around the candidates, for choosing the default quality mapping.
FINE_GRID = [
    ("rav1e", 6, 80),
    ("aom", 9, 80),
    ("aom", 9, 81),
    ("aom", 9, 82),
    ("aom", 9, 83),
    ("aom", 9, 84),
    ("svt", 8, 86),
    ("svt", 8, 88),
    ("svt", 10, 86),
    ("svt", 10, 88),
]
QUICK_GRID = [("rav1e", 6, 80), ("aom", 8, 80), ("aom", 9, 80), ("svt", 8, 80)]


def references(photo_dir: Path, width: int) -> list[Image.Image]:
    """Each photo through our pipeline to ``width`` px, losslessly (``.filename`` holds the photo's name)."""
    refs = []
    for path in sorted(photo_dir.iterdir()):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        result = convert(
            path.read_bytes(), ConvertOptions(format="png", width=width), pipeline_settings()
        ).rendition
        image = Image.open(io.BytesIO(result.data))
        image.load()
        image = image.convert("RGB")
        image.filename = path.name
        refs.append(image)
    return refs


# The old Rust service's AVIF (rav1e speed 6 at 80) against ours at its default (aom speed 9, 80 + 2).
PER_PHOTO = (("rav1e", 6, 80), ("aom", 9, 82))


def per_photo(refs: list[Image.Image], workdir: Path) -> list[dict]:
    """For each photo: bytes and SSIMULACRA2 of the old service's AVIF and of ours."""
    rows = []
    for ref in refs:
        row: dict = {"photo": ref.filename}
        for label, (codec, speed, quality) in zip(("rav1e", "ours"), PER_PHOTO, strict=True):
            data, _ms = encode(ref, codec, speed, quality)
            row[f"{label}_bytes"] = len(data)
            row[f"{label}_score"] = score(ref, data, workdir)
        rows.append(row)
        print(f"done {ref.filename}", flush=True)
    return rows


def score(reference: Image.Image, encoded: bytes, workdir: Path) -> float:
    """SSIMULACRA2 of the decoded AVIF against the reference (higher is better; 90 is visually lossless)."""
    from ssimulacra2 import compute_ssimulacra2

    ref_path, dist_path = workdir / "ref.png", workdir / "dist.png"
    reference.save(ref_path)
    decoded = Image.open(io.BytesIO(encoded))
    decoded.convert("RGB").save(dist_path)
    return float(compute_ssimulacra2(str(ref_path), str(dist_path)))


def encode(image: Image.Image, codec: str, speed: int, quality: int) -> tuple[bytes, float]:
    buffer = io.BytesIO()
    started = time.perf_counter()
    image.save(buffer, "AVIF", codec=codec, speed=speed, quality=quality, max_threads=1)
    return buffer.getvalue(), (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true", help="four settings only")
    parser.add_argument("--fine", action="store_true", help="finer steps around the chosen default")
    parser.add_argument(
        "--per-photo", action="store_true", help="rav1e s6 q80 against our default, per photo"
    )
    args = parser.parse_args()
    register_plugins()
    refs = references(args.photos, args.width)
    if args.per_photo:
        with tempfile.TemporaryDirectory() as tmp:
            rows = per_photo(refs, Path(tmp))
        print(
            "\n| photo | rav1e s6 q80 bytes | ours (aom s9 q82) bytes | ours / rav1e "
            "| SSIMULACRA2 rav1e | ours | ours - rav1e |"
        )
        print("|---|---|---|---|---|---|---|")
        for row in rows:
            print(
                f"| {row['photo']} | {row['rav1e_bytes']} | {row['ours_bytes']} "
                f"| {row['ours_bytes'] / row['rav1e_bytes']:.3f} | {row['rav1e_score']:.1f} "
                f"| {row['ours_score']:.1f} "
                f"| {row['ours_score'] - row['rav1e_score']:+.1f} |"
            )
        write_results(
            args.json or results_path("avif_table-per-photo"), {"width": args.width, "per_photo": rows}
        )
        return
    grid = QUICK_GRID if args.quick else FINE_GRID if args.fine else GRID
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for codec, speed, quality in grid:
            times, sizes, scores = [], [], []
            for ref in refs:
                data, ms = encode(ref, codec, speed, quality)
                times.append(ms)
                sizes.append(len(data))
                scores.append(score(ref, data, Path(tmp)))
            rows.append(
                {
                    "codec": codec,
                    "speed": speed,
                    "quality": quality,
                    "ms": statistics.mean(times),
                    "bytes": statistics.mean(sizes),
                    "ssimulacra2": statistics.mean(scores),
                }
            )
            print(f"done {codec} s{speed} q{quality}", flush=True)
    base = rows[0]
    print(f"\n{len(refs)} photos at {args.width} px, one encoder thread, means\n")
    print(
        "| codec | speed | quality | encode ms | x faster than rav1e s6 | bytes | bytes vs rav1e s6 q80 ",
        end="",
    )
    print("| SSIMULACRA2 |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['codec']} | {row['speed']} | {row['quality']} | {row['ms']:.0f} "
            f"| {base['ms'] / row['ms']:.1f} | {row['bytes']:.0f} | {row['bytes'] / base['bytes']:.2f} "
            f"| {row['ssimulacra2']:.1f} |"
        )
    name = "avif_table-fine" if args.fine else "avif_table-quick" if args.quick else "avif_table"
    write_results(args.json or results_path(name), {"photos": len(refs), "width": args.width, "rows": rows})


if __name__ == "__main__":
    main()
