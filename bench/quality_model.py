"""An experiment for quality=auto: can the quality that reaches a target be predicted from statistics that are
cheap to know before the first encode, so that one encode (and one exact score) is enough? Not yet: this
script fits such a predictor and measures its hit rate, and the service does not use it (docs/performance.md
says what it measured; bench/results/quality_model.json holds the run).

Samples: every image of the set at several output widths, in WebP, AVIF and JPEG, for targets 70, 75 and
80. The set is the corpus photos (a folder given, e.g. ../shared/corpus/photos) or generated photo-like
JPEGs, the same photos re-saved at lower JPEG qualities, and images this script makes: flat graphics, a UI
screenshot with text, flags, gradients, grain, flat colour and transparent ones. Each sample's frame is the
one the service encodes (a lossless PNG /convert of it, decoded), its features are the service's own
(imgopt/imaging/quality/features.py), and its label is the lowest encoder quality whose exact SSIMULACRA2
score reaches the target, found by bisection.

The model is a least-squares line per format over the features and the target. Its hit rate (the exact
score at the predicted quality falls in [target, target + ACCEPT], so one encode is enough) is measured with
each image left out of the fit that predicts it, per image class.

    .venv/bin/python -m bench.quality_model [PHOTO_DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import io
import math
import multiprocessing
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench.common import corpus_paths, generated_photos, markdown_table, results_path, write_results
from imgopt.imaging.codecs import Frame, encode, flattened_for_jpeg
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from imgopt.imaging.quality.search import ACCEPT
from imgopt.imaging.quality.ssimulacra2 import Scorer
from testing import images
from testing.graphics import GRAPHICS
from testing.settings import pipeline_settings

FORMATS = ("webp", "avif", "jpeg")
TARGETS = (70.0, 75.0, 80.0)
WIDTHS = (320, 768, 1200, 1920)
SETTINGS = pipeline_settings(max_decode_bytes=8 << 30, rendition_threads=1)


# --- the features: what is cheap to know of a frame before its first encode --------------------------------

# The IJG standard luminance quantisation table, in natural (row by row) order, at quality 50.
STANDARD_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip

LAPLACIAN = ImageFilter.Kernel((3, 3), (0, 1, 0, 1, -4, 1, 0, 1, 0), scale=1, offset=128)
FLAT_BELOW = 2
PROXY = (64, 64)
MAX_COLOURS = 4096


@dataclass(frozen=True)
class Features:
    """The predictor's inputs for one frame (see the module's docstring)."""

    detail: float
    flat: float
    colours: float
    alpha: float
    pixels: float
    source_quality: float

    def as_row(self) -> tuple[float, ...]:
        return (self.detail, self.flat, self.colours, self.alpha, self.pixels, self.source_quality)


def jpeg_quality(image: Image.Image) -> float:
    """The quality an IJG-style encoder used for a JPEG, from its luminance table (the inverse of libjpeg's
    scaling: quality 50 is the standard table, each quality step scales it); 100 for anything else."""
    tables = getattr(image, "quantization", None) if image.format == "JPEG" else None
    if not tables or 0 not in tables or len(tables[0]) != 64:
        return 100.0
    table = list(tables[0])
    # Pillow gives the table in zigzag order before 8.3 and in natural order since; both sum alike.
    scale = 100.0 * sum(table) / sum(STANDARD_LUMINANCE)
    quality = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return max(1.0, min(100.0, quality))


def features(frame: Image.Image, source_quality: float = 100.0) -> Features:
    """The statistics of the frame about to be encoded (RGB or RGBA, at the output's size)."""
    alpha = 0.0
    if frame.mode == "RGBA":
        alpha_histogram = frame.getchannel("A").histogram()
        alpha = 1.0 - alpha_histogram[255] / max(1, frame.width * frame.height)
    grey = frame.convert("L")
    half = grey.reduce(2) if min(grey.size) >= 16 else grey
    edges = half.filter(LAPLACIAN)
    histogram = edges.histogram()
    total = max(1, sum(histogram))
    detail = sum(abs(value - 128) * count for value, count in enumerate(histogram)) / total
    flat = sum(histogram[128 - FLAT_BELOW + 1 : 128 + FLAT_BELOW]) / total
    proxy = frame.convert("RGB").resize(PROXY, Image.Resampling.BOX)
    found = proxy.getcolors(MAX_COLOURS)
    colours = math.log2(len(found) if found is not None else MAX_COLOURS + 1)
    return Features(
        detail=detail,
        flat=flat,
        colours=colours,
        alpha=alpha,
        pixels=math.log2(max(1, frame.width * frame.height)),
        source_quality=source_quality,
    )


# --- the model: a least-squares line per format ------------------------------------------------------------


def inputs(features: Sequence[float], target: float) -> list[float]:
    """The line's inputs: a constant, the target, the features (imgopt/imaging/quality/features.py: detail on
    a log scale, flat share, colours, alpha share, pixels, the source's JPEG quality), and the target's
    effect growing with detail."""
    detail, flat, colours, alpha, pixels, source_quality = features
    texture = math.log1p(detail)
    return [
        1.0,
        target,
        texture,
        flat,
        colours,
        alpha,
        pixels,
        source_quality / 100.0,
        target * texture / 100.0,
    ]


def quality_from(coefficients: Sequence[float], features: Sequence[float], target: float) -> int:
    """The predicted encoder quality, a whole number from 1 to 100."""
    value = sum(weight * x for weight, x in zip(coefficients, inputs(features, target), strict=True))
    return max(1, min(100, math.ceil(value)))


# --- the set ------------------------------------------------------------------------------------------------


def made_images() -> dict[str, tuple[str, bytes]]:
    """name -> (class, bytes) of what this script makes."""
    made: dict[str, tuple[str, Image.Image]] = {name: ("graphic", make()) for name, make in GRAPHICS.items()}
    made["flat-graphic.png"] = ("graphic", images.flat_graphic((1600, 1200)))
    made["gradient.png"] = ("gradient", images.gradient((1600, 1200)))
    made["flat-colour.png"] = ("flat", Image.new("RGB", (1200, 900), (40, 120, 200)))
    made["grain.png"] = ("photo-like", images.textured((1600, 1200), seed=4))
    text = Image.new("RGB", (1400, 1000), (250, 250, 245))
    draw = ImageDraw.Draw(text)
    for row in range(40):
        draw.text(
            (40, 20 + row * 24),
            "The quick brown fox jumps over the lazy dog 0123456789 " * 2,
            fill=(20, 20, 30),
        )
    made["text.png"] = ("text", text)
    logo = Image.new("RGBA", (1200, 800), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse(
        (100, 100, 1100, 700), fill=(220, 40, 60, 255), outline=(20, 20, 20, 255), width=12
    )
    made["alpha-logo.png"] = ("alpha", logo)
    photo_alpha = images.textured((1400, 1000), seed=9).convert("RGBA")
    photo_alpha.putalpha(Image.linear_gradient("L").resize((1400, 1000)))
    made["alpha-photo.png"] = ("alpha", photo_alpha)
    return {name: (kind, images.encode(image, "PNG")) for name, (kind, image) in made.items()}


def image_set(photo_dir: Path | None) -> dict[str, tuple[str, bytes]]:
    """Photos (and two of them re-saved at JPEG 50 and 70), and the images this script makes."""
    if photo_dir is not None:
        photos = {path.name: path.read_bytes() for path in corpus_paths(photo_dir)}
    else:
        photos = {f"generated-{index}.jpg": data for index, data in enumerate(generated_photos(smoke=False))}
    chosen = {name: ("photo", data) for name, data in photos.items()}
    for name, data in list(photos.items())[:2]:
        for quality in (50, 70):
            resaved = convert(data, ConvertOptions(format="jpeg", quality=quality), SETTINGS).rendition.data
            chosen[f"{name}@q{quality}"] = ("photo", resaved)
    return {**chosen, **made_images()}


# --- one sample ---------------------------------------------------------------------------------------------


def frame_of(data: bytes, width: int) -> Image.Image:
    """The frame the service encodes at this width: a lossless PNG of it, decoded."""
    png = convert(data, ConvertOptions(format="png", width=width), SETTINGS).rendition.data
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.copy()


def score_at(frame: Image.Image, scorer: Scorer, fmt: str, quality: int) -> tuple[float, int]:
    """The exact score and bytes of the frame encoded at ``quality``."""
    data = encode([Frame(frame.copy(), 0)], 0, ConvertOptions(format=fmt, quality=quality), SETTINGS)
    with Image.open(io.BytesIO(data)) as decoded:
        decoded.load()
        return scorer.score(decoded), len(data)


def lowest_passing(frame: Image.Image, scorer: Scorer, fmt: str, target: float) -> int:
    """The lowest quality whose exact score reaches ``target`` (bisection; 100 when none does)."""
    low, high = 1, 100
    if score_at(frame, scorer, fmt, high)[0] < target:
        return 100
    while low < high:
        middle = (low + high) // 2
        if score_at(frame, scorer, fmt, middle)[0] >= target:
            high = middle
        else:
            low = middle + 1
    return low


def sample(job: tuple[str, str, bytes, int]) -> list[dict]:
    """Every format and target for one image at one width."""
    name, kind, data, width = job
    frame = frame_of(data, width)
    if frame.width < width and width != WIDTHS[0]:
        return []  # not enlarged: the source is narrower, already sampled at its own width
    with Image.open(io.BytesIO(data)) as source:
        source_quality = jpeg_quality(source)
    found = features(frame, source_quality)
    rows = []
    for fmt in FORMATS:
        encoded = flattened_for_jpeg(frame) if fmt == "jpeg" else frame
        scorer = Scorer(encoded.convert("RGBA" if encoded.mode == "RGBA" else "RGB"))
        for target in TARGETS:
            rows.append(
                {
                    "image": name,
                    "class": kind,
                    "width": frame.width,
                    "format": fmt,
                    "target": target,
                    "features": list(found.as_row()),
                    "label": lowest_passing(encoded, scorer, fmt, target),
                }
            )
    return rows


# --- the fit and its hit rate -----------------------------------------------------------------------------


def fit(rows: list[dict]) -> list[float]:
    """Least-squares coefficients of ``inputs`` for these rows' labels."""
    x = np.array([inputs(row["features"], row["target"]) for row in rows])
    y = np.array([row["label"] for row in rows], dtype=float)
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    return [float(value) for value in coefficients]


def verify(job: tuple[dict, int, bytes]) -> dict:
    """The exact score and bytes at the predicted quality, and at the label (what the search would find)."""
    row, predicted, data = job
    frame = frame_of(data, row["width"])
    encoded = flattened_for_jpeg(frame) if row["format"] == "jpeg" else frame
    scorer = Scorer(encoded.convert("RGBA" if encoded.mode == "RGBA" else "RGB"))
    score, size = score_at(encoded, scorer, row["format"], predicted)
    _label_score, label_bytes = score_at(encoded, scorer, row["format"], row["label"])
    hit = row["target"] <= score <= row["target"] + ACCEPT
    return {
        **row,
        "predicted": predicted,
        "score": round(score, 2),
        "bytes": size,
        "label_bytes": label_bytes,
        "hit": hit,
    }


def held_out(rows: list[dict], sources: dict[str, tuple[str, bytes]], pool) -> list[dict]:
    """Each row predicted by the model fitted without its image, then verified."""
    jobs = []
    for fmt in FORMATS:
        for row in (row for row in rows if row["format"] == fmt):
            others = [other for other in rows if other["format"] == fmt and other["image"] != row["image"]]
            coefficients = fit(others)
            predicted = quality_from(coefficients, row["features"], row["target"])
            jobs.append((row, predicted, sources[row["image"]][1]))
    return list(pool.imap(verify, jobs, chunksize=4))


def summary(verified: list[dict]) -> list[list[object]]:
    table = []
    for kind in sorted({row["class"] for row in verified}):
        for fmt in FORMATS:
            rows = [row for row in verified if row["class"] == kind and row["format"] == fmt]
            if not rows:
                continue
            hits = sum(row["hit"] for row in rows) / len(rows)
            below = min(row["score"] - row["target"] for row in rows)
            extra = statistics.mean(row["bytes"] / row["label_bytes"] for row in rows)
            error = statistics.mean(abs(row["predicted"] - row["label"]) for row in rows)
            table.append(
                [kind, fmt, len(rows), f"{hits:.0%}", f"{error:.1f}", f"{below:+.1f}", f"{extra:.3f}"]
            )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", nargs="?", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sources = image_set(args.photos)
    jobs = [(name, kind, data, width) for name, (kind, data) in sources.items() for width in WIDTHS]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        rows = [row for rows in pool.imap(sample, jobs) for row in rows]
        print(f"{len(rows)} samples from {len(sources)} images", flush=True)
        coefficients = {fmt: fit([row for row in rows if row["format"] == fmt]) for fmt in FORMATS}
        verified = held_out(rows, sources, pool)
    table = summary(verified)
    header = ["class", "format", "samples", "hits", "mean |q - best|", "worst score - target", "bytes / best"]
    print(markdown_table(header, table))
    misses = sorted(
        (row for row in verified if not row["hit"]),
        key=lambda row: abs(row["score"] - row["target"]),
        reverse=True,
    )
    print("\nworst misses:")  # the held-out prediction furthest from the target
    for row in misses[:12]:
        print(
            f"  {row['image']} {row['width']} {row['format']} target {row['target']}: "
            f"predicted q{row['predicted']}, best q{row['label']}, score {row['score']}"
        )
    write_results(
        args.json or results_path("quality_model"),
        {
            "coefficients": coefficients,
            "summary": [dict(zip(header, row, strict=True)) for row in table],
            "samples": verified,
        },
    )


if __name__ == "__main__":
    main()
