"""GD's arithmetic, as spatie/image's GD driver drives it (libgd 2.3, PHP 8): rounding, truecolor frames,
point filters, the 3x3 convolution, channel maps. The operations are written with these so that their pixels
are GD's (tests/test_operations.py holds each against a transcription of GD's C code).

Where GD's work is per pixel with a float accumulator, it is done here with numpy in single precision, in the
same order, a band of rows at a time so that working memory stays small whatever the frame's size. numpy is
imported on first use: a worker that never runs an operation never loads it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image

# Rows handled at once: the working arrays of a band stay under a few megabytes.
BAND_BYTES = 2 * 1024 * 1024


def numpy() -> Any:
    import numpy as np

    return np


def php_round(value: float) -> int:
    """PHP's round() to a whole number: first to 15 significant digits (so 25 x 2.55, 63.74999999999999 in
    binary, is 63.75), then halves away from zero (Python rounds them to even)."""
    value = float(f"{value:.15g}")
    return math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)


def truecolor(image: Image.Image) -> Image.Image:
    """GD works on truecolor frames: grey (with or without alpha) as RGB(A)."""
    if image.mode == "L":
        return image.convert("RGB")
    if image.mode == "LA":
        return image.convert("RGBA")
    return image


def point(image: Image.Image, tables: Sequence[Sequence[int]]) -> Image.Image:
    """Each colour channel through its table of 256 values; alpha as it was."""
    image = truecolor(image)
    channels = list(image.split())
    for index in range(3):
        channels[index] = channels[index].point(list(tables[index]))
    return Image.merge(image.mode, channels)


def map_rgb(image: Image.Image, work: Callable[[Any], Any], margin: int = 0) -> Image.Image:
    """``work`` on the colour channels (a float32 array of rows x columns x 3, with ``margin`` rows and
    columns of the nearest edge pixel around it, as GD's convolution reads past the edge), a band of rows at
    a time; its uint8 result replaces them, alpha as it was."""
    np = numpy()
    image = truecolor(image)
    pixels = np.asarray(image)
    height, width = pixels.shape[:2]
    rgb = pixels[:, :, :3]
    out = pixels.copy()
    rows = max(1, BAND_BYTES // max(1, (width + 2 * margin) * 3 * 4 * 4))
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        index = np.clip(np.arange(top - margin, bottom + margin), 0, height - 1)
        band = rgb[index]
        if margin:
            band = np.pad(band, ((0, 0), (margin, margin), (0, 0)), mode="edge")
        out[top:bottom, :, :3] = work(band.astype(np.float32))
    return Image.fromarray(out, image.mode)


def convolve3x3(
    image: Image.Image, matrix: Sequence[Sequence[float]], divisor: float, offset: float
) -> Image.Image:
    """libgd's gdImageConvolution: each channel a single-precision sum of the 3x3 neighbourhood times the
    matrix (row by row, the image's edge pixels repeated past it), divided, offset, clamped to 0-255 and
    truncated; the centre pixel's alpha kept."""
    np = numpy()
    kernel = np.asarray(matrix, dtype=np.float32)
    divisor32, offset32 = np.float32(divisor), np.float32(offset)

    def work(band: Any) -> Any:
        rows, columns = band.shape[0] - 2, band.shape[1] - 2
        total = np.zeros((rows, columns, 3), dtype=np.float32)
        term = np.empty_like(total)
        for j in range(3):
            for i in range(3):
                np.multiply(band[j : j + rows, i : i + columns], kernel[j, i], out=term)
                np.add(total, term, out=total)
        np.divide(total, divisor32, out=total)
        np.add(total, offset32, out=total)
        np.clip(total, 0, 255, out=total)
        return total.astype(np.uint8)

    return map_rgb(image, work, margin=1)
