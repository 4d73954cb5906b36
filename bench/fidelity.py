"""Print the fidelity table: each case's mean absolute difference from its reference, and the resampling
choice (filter, reducing_gap) measured on a checkerboard and on photos.

    .venv/bin/python -m bench.fidelity [PHOTO_DIR]
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

from PIL import Image, ImageChops, ImageCms, ImageStat

from imgopt.imaging.colour import load_cmyk_profile
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from testing import icc, images
from testing.images import FILES, colourful, stored_jpeg
from testing.settings import pipeline_settings

SRGB = ImageCms.createProfile("sRGB")
SETTINGS = pipeline_settings()


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def ours(data: bytes, fmt: str = "png", **options: object) -> Image.Image:
    image = Image.open(
        io.BytesIO(convert(data, ConvertOptions(format=fmt, **options), SETTINGS).rendition.data)
    )
    image.load()
    return image


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def colour_rows() -> list[tuple[str, float, float, float]]:
    """(case, ours as PNG vs reference, ours as WebP q80 vs reference, naive vs reference)."""
    rows = []
    for name, profile in (
        ("Display P3", icc.DISPLAY_P3),
        ("Adobe RGB", icc.ADOBE_RGB),
        ("ProPhoto", icc.PROPHOTO),
    ):
        for fmt in ("PNG", "JPEG"):
            data = images.encode(
                colourful(), fmt, icc_profile=profile, **({"quality": 98} if fmt == "JPEG" else {})
            )
            tagged = opened(data)
            reference = ImageCms.profileToProfile(tagged, ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB)
            rows.append((f"{name} {fmt}", *_ours(data, reference), mean_difference(tagged, reference)))
    grey = images.encode(images.gradient((64, 64), "L"), "PNG", icc_profile=icc.GREY_GAMMA_18)
    tagged = opened(grey)
    reference = ImageCms.profileToProfile(
        tagged, ImageCms.ImageCmsProfile(io.BytesIO(icc.GREY_GAMMA_18)), SRGB, outputMode="RGB"
    )
    rows.append(("grey gamma 1.8 PNG", *_ours(grey, reference), mean_difference(tagged, reference)))
    cmyk_profile = ImageCms.ImageCmsProfile(io.BytesIO(load_cmyk_profile()))
    for name, data in (
        (
            "CMYK JPEG, no profile (real file)",
            (FILES / "Channel_digital_image_CMYK_color_no_profile.jpg").read_bytes(),
        ),
        (
            "CMYK JPEG, FOGRA39 embedded",
            images.encode(colourful().convert("CMYK"), "JPEG", quality=98, icc_profile=load_cmyk_profile()),
        ),
    ):
        source = opened(data)
        reference = ImageCms.profileToProfile(source, cmyk_profile, SRGB, outputMode="RGB")
        rows.append((name, *_ours(data, reference), mean_difference(source.convert("RGB"), reference)))
    return rows


def _ours(data: bytes, reference: Image.Image) -> tuple[float, float]:
    return mean_difference(ours(data), reference), mean_difference(ours(data, "webp", quality=80), reference)


def orientation_rows() -> list[tuple[str, float]]:
    upright = images.marked((600, 400))
    rows = []
    for orientation in range(1, 9):
        output = ours(stored_jpeg(upright, orientation), width=300)
        rows.append(
            (f"orientation {orientation} -> 300 px", mean_difference(output, upright.resize((300, 200))))
        )
    return rows


def resampling_rows(photo_dir: Path | None, width: int) -> list[tuple[str, float, float, float]]:
    """(setting, checkerboard stddev, ms per photo, mean difference from plain Lanczos on photos)."""
    board = images.checkerboard(1000)
    photos = []
    if photo_dir:
        for path in sorted(photo_dir.glob("*.jp*g"))[:4]:
            image = Image.open(path)
            image.load()
            photos.append(image.convert("RGB"))
    if not photos:
        photos = [images.gradient((3000, 2000))]
    plain = [p.resize((width, round(p.height * width / p.width)), Image.Resampling.LANCZOS) for p in photos]
    rows = []
    for label, resample, gap in (
        ("LANCZOS, no reducing_gap", Image.Resampling.LANCZOS, None),
        ("LANCZOS, reducing_gap=2.0", Image.Resampling.LANCZOS, 2.0),
        ("LANCZOS, reducing_gap=3.0 (chosen)", Image.Resampling.LANCZOS, 3.0),
        ("BICUBIC, reducing_gap=3.0", Image.Resampling.BICUBIC, 3.0),
        ("NEAREST", Image.Resampling.NEAREST, None),
    ):
        stddev = ImageStat.Stat(board.resize((97, 97), resample, reducing_gap=gap)).stddev[0]
        started = time.perf_counter()
        outputs = [p.resize(q.size, resample, reducing_gap=gap) for p, q in zip(photos, plain, strict=True)]
        elapsed = (time.perf_counter() - started) * 1000 / len(photos)
        difference = sum(mean_difference(o, q) for o, q in zip(outputs, plain, strict=True)) / len(photos)
        rows.append((label, stddev, elapsed, difference))
    return rows


def main() -> None:
    photo_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print("| colour case | ours (PNG) vs ImageCms reference | ours (WebP q80) | naive (profile ignored) |")
    print("|---|---|---|---|")
    for name, as_png, as_webp, naive in colour_rows():
        print(f"| {name} | {as_png:.2f} | {as_webp:.2f} | {naive:.2f} |")
    print("\n| orientation case | mean difference from the upright original |")
    print("|---|---|")
    for name, difference in orientation_rows():
        print(f"| {name} | {difference:.2f} |")
    for width in (1200, 320):
        print(
            f"\n| resampling, full-size decode to {width} px | checkerboard 1000->97 stddev | ms per photo"
            " | mean difference from plain Lanczos |"
        )
        print("|---|---|---|---|")
        for label, stddev, elapsed, difference in resampling_rows(photo_dir, width):
            print(f"| {label} | {stddev:.1f} | {elapsed:.0f} | {difference:.2f} |")


if __name__ == "__main__":
    main()
