"""Trains quality=auto's predictor (imgopt/imaging/quality/prediction.py) and measures its hit rate.

Samples: every image of the set at 1200 and 1600 px wide (its own width when narrower), in WebP, AVIF and
JPEG, for targets 70, 75 and 80, when the frame is large enough to be sampled. The set is the corpus photos
(a folder given, e.g. ../shared/corpus/photos) or generated photo-like JPEGs, two of them re-saved at lower
JPEG qualities, and images this script makes: flat graphics, a UI screenshot with text, flags, gradients,
grain, flat colour and transparent ones. Each sample's frame is the one the service
encodes (a lossless PNG /convert of it, decoded); its input is the service's own (the mosaic's exact score
at the first guess, ``prediction.sample_score``), and its label is the lowest encoder quality whose exact
SSIMULACRA2 score reaches the target, found by bisection.

The model is a line per format and kind (photo or flat graphic, as the mosaic tells them) from the mosaic's
score less the target to the quality, fitted towards least absolute error; the photos' line on the photos.
(More inputs, the target and the frame's size apart, fitted closer and predicted worse: 27 of 60 held-out
WebP photo samples against 40.) Its hit rate (the exact score of the whole frame at the predicted quality
falls in [target, target + ACCEPT], so one encode is enough) is measured with each image left out of the
fit that predicts it, per image class; the lines fitted on every image are printed as they go into
``prediction.MODEL``.

    .venv/bin/python -m bench.quality_model [PHOTO_DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import statistics
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.common import corpus_paths, generated_photos, markdown_table, results_path, write_results
from imgopt.imaging.codecs import Frame, encode, flattened_for_jpeg
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from imgopt.imaging.quality.prediction import Line, mosaic, sample_score
from imgopt.imaging.quality.search import ACCEPT
from imgopt.imaging.quality.ssimulacra2 import Scorer
from testing import images
from testing.graphics import GRAPHICS
from testing.settings import pipeline_settings

FORMATS = ("webp", "avif", "jpeg")
TARGETS = (70.0, 75.0, 80.0)
WIDTHS = (1200, 1600)
SETTINGS = pipeline_settings(max_decode_bytes=8 << 30, rendition_threads=1)


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


def frame_of(data: bytes, width: int, fmt: str) -> Image.Image:
    """The frame the service encodes at this width (a lossless PNG of it, decoded), as the encoder gets it."""
    png = convert(data, ConvertOptions(format="png", width=width), SETTINGS).rendition.data
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        frame = flattened_for_jpeg(image) if fmt == "jpeg" else image
        return frame.convert("RGBA" if frame.mode == "RGBA" else "RGB")


def encoder(fmt: str):
    def encode_image(image: Image.Image, quality: int) -> bytes:
        return encode([Frame(image, 0)], 0, ConvertOptions(format=fmt, quality=quality), SETTINGS)

    return encode_image


class Curve:
    """Exact scores and bytes of one frame encoded at any quality, each encode made once."""

    def __init__(self, frame: Image.Image, fmt: str) -> None:
        self.frame = frame
        self.encode = encoder(fmt)
        self.scorer = Scorer(frame)
        self.known: dict[int, tuple[float, int]] = {}

    def __call__(self, quality: int) -> tuple[float, int]:
        if quality not in self.known:
            data = self.encode(self.frame.copy(), quality)
            with Image.open(io.BytesIO(data)) as decoded:
                decoded.load()
                self.known[quality] = (self.scorer.score(decoded), len(data))
        return self.known[quality]

    def lowest_passing(self, target: float) -> int:
        """The lowest quality whose exact score reaches ``target`` (bisection; 100 when none does)."""
        low, high = 1, 100
        if self(high)[0] < target:
            return 100
        while low < high:
            middle = (low + high) // 2
            if self(middle)[0] >= target:
                high = middle
            else:
                low = middle + 1
        return low


def sample(job: tuple[str, str, bytes, int, str]) -> list[dict]:
    """Every target for one image at one width in one format."""
    name, kind, data, width, fmt = job
    frame = frame_of(data, width, fmt)
    if frame.width < width and width != WIDTHS[0]:
        return []  # not enlarged: the source is narrower, already sampled at its own width
    tiles = mosaic(frame)
    if tiles is None:
        return []
    score, flat = sample_score(tiles, fmt, encoder(fmt))
    curve = Curve(frame, fmt)
    return [
        {
            "image": name,
            "class": kind,
            "width": frame.width,
            "pixels": frame.width * frame.height,
            "format": fmt,
            "target": target,
            "sample_score": round(score, 3),
            "flat": flat,
            "label": curve.lowest_passing(target),
        }
        for target in TARGETS
    ]


# --- the fit and its hit rate -----------------------------------------------------------------------------


def fit(rows: list[dict]) -> Line:
    """The line from the mosaic's score less the target to the label, fitted towards least absolute error
    (reweighted least squares): a few images far off the line should not drag it from the rest."""
    x = np.array([[1.0, row["sample_score"] - row["target"]] for row in rows])
    y = np.array([row["label"] for row in rows], dtype=float)
    weights = np.ones(len(y))
    for _ in range(20):
        coefficients, *_ = np.linalg.lstsq(x * weights[:, None], y * weights, rcond=None)
        weights = 1.0 / np.sqrt(np.maximum(np.abs(y - x @ coefficients), 1.0))
    return Line(*(round(float(value), 3) for value in coefficients))


def lines(rows: list[dict]) -> dict[tuple[str, bool], Line]:
    """Per format, the photos' line (fitted on the photos) and the flat graphics' (on the samples the mosaic
    calls flat, or on every sample when fewer than three images are flat)."""
    fitted = {}
    for fmt in FORMATS:
        ours = [row for row in rows if row["format"] == fmt]
        fitted[fmt, False] = fit([row for row in ours if row["class"] == "photo" and not row["flat"]])
        flat = [row for row in ours if row["flat"]]
        fitted[fmt, True] = fit(flat if len({row["image"] for row in flat}) >= 3 else ours)
    return fitted


def source_of(name: str) -> str:
    return name.split("@", maxsplit=1)[0]  # a re-saved photo is left out with its original


def verify(job: tuple[dict, int, bytes]) -> dict:
    """The exact score and bytes at the predicted quality, and at the label (what the search would find)."""
    row, predicted, data = job
    curve = Curve(frame_of(data, row["width"], row["format"]), row["format"])
    score, size = curve(predicted)
    _label_score, label_bytes = curve(row["label"])
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
    """Each row predicted by the lines fitted without its image, then verified."""
    jobs = []
    for name in sorted({source_of(row["image"]) for row in rows}):
        fitted = lines([row for row in rows if source_of(row["image"]) != name])
        for row in (row for row in rows if source_of(row["image"]) == name):
            predicted = fitted[row["format"], row["flat"]].quality(row["sample_score"], row["target"])
            jobs.append((row, predicted, sources[row["image"]][1]))
    return list(pool.imap(verify, jobs, chunksize=2))


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
    jobs = [
        (name, kind, data, width, fmt)
        for name, (kind, data) in sources.items()
        for width in WIDTHS
        for fmt in FORMATS
    ]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        rows = [row for rows in pool.imap_unordered(sample, jobs) for row in rows]
        print(f"{len(rows)} samples from {len(sources)} images", flush=True)
        fitted = lines(rows)
        verified = held_out(rows, sources, pool)
    print("\nMODEL (fitted on every image):")
    for (fmt, flat), line in fitted.items():
        print(f"    ({fmt!r}, {flat}): {line},")
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
            "model": {
                f"{fmt},{'flat' if flat else 'photo'}": vars(line) for (fmt, flat), line in fitted.items()
            },
            "summary": [dict(zip(header, row, strict=True)) for row in table],
            "samples": verified,
        },
    )


if __name__ == "__main__":
    main()
