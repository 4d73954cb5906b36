"""What draws the eye in an image: an attention map on a 32x32 proxy, after libvips' ``smartcrop`` attention.

Three cues are summed per proxy pixel, as libvips does: edges (a Laplacian on luminance), skin tones (how
close the pixel's colour direction in XYZ is to a skin vector, from smartcrop.js) and warm saturation (LAB
a*), the last two only where the pixel is not dark. The map is blurred with a Gaussian as wide as a tenth of
the crop window's diagonal, and the crop is centred on the maximum. On the corpus this agrees with libvips'
own attention crop far better than a centre crop does (docs/fidelity.md). Python and Pillow on 1,024 pixels:
about 1.5 ms, no dependency, deterministic.
"""

from __future__ import annotations

import math

from PIL import Image, ImageFilter

from imgopt.imaging.colour import SRGB_TO_LINEAR

PROXY_SIZE = (32, 32)


# smartcrop.js's skin colour, as a unit direction in XYZ.
SKIN = (0.78, 0.57, 0.44)


# Pixels darker than this luminance (Y, 0-100) get no skin or saturation score.
DARK = 5.0


def interesting_point(proxy: Image.Image, window: tuple[float, float]) -> tuple[float, float] | None:
    """The point the crop window should be centred on, as fractions (0-1) of the proxy's width and height.

    ``proxy`` is a small sRGB image of the region the window moves in; ``window`` is the window's size as
    fractions of that region. None when the image offers nothing to choose by (a flat map).
    """
    width, height = proxy.size
    scores = _scores(proxy.convert("RGB"), width, height)
    low, high = min(scores), max(scores)
    if high - low < 1e-9:
        return None
    # The blur runs in Pillow on the map scaled to 8 bits: 20x faster than in Python, and on the corpus it
    # agrees with libvips as well or better (docs/fidelity.md).
    attention_map = Image.new("L", (width, height))
    attention_map.putdata([round(255 * (score - low) / (high - low)) for score in scores])
    sigma = max(math.hypot(window[0] * width, window[1] * height) / 10, 1.0)
    blurred = attention_map.filter(ImageFilter.GaussianBlur(sigma)).tobytes()
    index = blurred.index(max(blurred))
    return (index % width) / width, (index // width) / height


def _scores(proxy: Image.Image, width: int, height: int) -> list[float]:
    """Edges + skin + saturation for every pixel, row by row."""
    luminance, cues = [], []
    skin_x, skin_y, skin_z = SKIN
    for red, green, blue in zip(*(channel.tobytes() for channel in proxy.split()), strict=True):
        r, g, b = SRGB_TO_LINEAR[red], SRGB_TO_LINEAR[green], SRGB_TO_LINEAR[blue]
        x = 0.4124 * r + 0.3576 * g + 0.1805 * b
        y = 0.2126 * r + 0.7152 * g + 0.0722 * b
        z = 0.0193 * r + 0.1192 * g + 0.9505 * b
        luminance.append(100 * y)
        if 100 * y <= DARK:
            cues.append(0.0)
            continue
        size = math.sqrt(x * x + y * y + z * z)
        distance = math.sqrt((x / size - skin_x) ** 2 + (y / size - skin_y) ** 2 + (z / size - skin_z) ** 2)
        saturation = 500 * (_lab(x / 0.95047) - _lab(y))  # LAB a*
        cues.append(100 - 100 * distance + saturation)
    scores = []
    for row in range(height):
        above, here, below = max(row - 1, 0) * width, row * width, min(row + 1, height - 1) * width
        for column in range(width):
            left, right = max(column - 1, 0), min(column + 1, width - 1)
            centre = luminance[here + column]
            around = luminance[above + column] + luminance[below + column] + luminance[here + left]
            laplacian = 4 * centre - around - luminance[here + right]
            scores.append(abs(5 * laplacian) + cues[here + column])
    return scores


def _lab(t: float) -> float:
    """The LAB companding function."""
    return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116
