"""Placeholders a page shows while the real image loads: mean colour, BlurHash and ThumbHash.

All three are computed from one tiny sRGB proxy of the upright image (at most ``PROXY_SIDE`` pixels a side),
in plain Python: the DCT sums are separable, so a 32x24 proxy costs a few hundred C-level dot products. The
algorithms follow the published references (woltapp/blurhash ``Algorithm.md`` and its Swift encoder;
evanw/thumbhash), so any of their decoders renders our strings.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from operator import mul

from PIL import Image

from imgopt.imaging.colour import SRGB_TO_LINEAR

PROXY_SIDE = 32


BLURHASH_COMPONENTS = (4, 3)


# The data: URI placeholder is a WebP this many pixels on its longest side, at these qualities: on the corpus
# JPEGs 167-247 bytes (its transparent 2048x1536 PNG: 523), 0.10-0.35 ms to encode (make bench, info part).
DATA_URI_SIDE = 20
DATA_URI_QUALITY = 50
DATA_URI_ALPHA_QUALITY = 30


# Below this a DCT term is rounding noise of a term that is zero (a flat channel), and is taken as zero.
EXACT_ZERO = 1e-12


BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


@dataclass(frozen=True)
class Placeholder:
    """What a page can paint before the image arrives."""

    color: str
    blurhash: str
    thumbhash: str
    # A tiny WebP as a data: URI: any browser paints it without JavaScript (next/image's blurDataURL, a CSS
    # background).
    data_uri: str


def proxy_size(size: tuple[int, int], side: int = PROXY_SIDE) -> tuple[int, int]:
    """The size of the proxy for an image of ``size``: aspect ratio kept, longest side at most ``side``."""
    width, height = size
    if max(width, height) <= side:
        return size
    factor = side / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def make_proxy(image: Image.Image) -> Image.Image:
    """A box-filtered proxy of an upright image in its working mode (box: every pixel counts equally)."""
    return image.resize(proxy_size(image.size), Image.Resampling.BOX)


def placeholder(proxy: Image.Image) -> Placeholder:
    """Mean colour, BlurHash, ThumbHash and a tiny WebP data: URI of an sRGB proxy (RGB or RGBA)."""
    width, height = proxy.size
    channels = [list(channel.tobytes()) for channel in proxy.convert("RGBA").split()]
    red, green, blue = _composited(*channels)
    linear = [[SRGB_TO_LINEAR[value] for value in channel] for channel in (red, green, blue)]
    mean = [sum(channel) / len(channel) for channel in linear]
    color = "#" + "".join(f"{_to_srgb(value):02x}" for value in mean)
    return Placeholder(
        color=color,
        blurhash=blurhash(linear, width, height, *BLURHASH_COMPONENTS),
        thumbhash=base64.b64encode(thumbhash(channels, width, height)).decode("ascii"),
        data_uri=data_uri(proxy),
    )


def data_uri(proxy: Image.Image) -> str:
    """The proxy, box-filtered to DATA_URI_SIDE, as a WebP data: URI; with an alpha channel only when some
    pixel is not opaque."""
    image = proxy.convert("RGBA")
    if image.getchannel("A").getextrema()[0] == 255:
        image = image.convert("RGB")
    small = image.resize(proxy_size(image.size, DATA_URI_SIDE), Image.Resampling.BOX)
    buffer = io.BytesIO()
    small.save(buffer, "WEBP", quality=DATA_URI_QUALITY, alpha_quality=DATA_URI_ALPHA_QUALITY, method=4)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _composited(red: list[int], green: list[int], blue: list[int], alpha: list[int]) -> list[list[int]]:
    """Colour channels with transparent pixels replaced by the image's mean visible colour.

    The mean colour and the BlurHash (which has no alpha) describe what is visible; a transparent area is
    filled with that colour rather than with whatever its invisible pixels hold. Weights are alpha.
    """
    total = sum(alpha)
    if total == 255 * len(alpha):
        return [red, green, blue]
    if total == 0:  # nothing visible: describe the colour channels as they are
        return [red, green, blue]
    result = []
    for channel in (red, green, blue):
        mean = sum(map(mul, channel, alpha)) / total
        result.append(
            [round(mean + (value - mean) * a / 255) for value, a in zip(channel, alpha, strict=True)]
        )
    return result


def _to_srgb(value: float) -> int:
    """Linear light (0-1) -> sRGB byte, rounded as the BlurHash reference does."""
    value = min(1.0, max(0.0, value))
    if value <= 0.0031308:
        return int(value * 12.92 * 255 + 0.5)
    return int((1.055 * value ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _dct(
    channel: list[float], size: tuple[int, int], nx: int, ny: int, *, offset: float
) -> list[list[float]]:
    """Unnormalised DCT-II sums ``sum cos(pi*cx*(x+offset)/w) cos(pi*cy*(y+offset)/h) v(x, y)`` for cx < nx,
    cy < ny, computed separably: rows first, then columns. Returns ``[cy][cx]``."""
    width, height = size
    cos_x = [[math.cos(math.pi * cx * (x + offset) / width) for x in range(width)] for cx in range(nx)]
    cos_y = [[math.cos(math.pi * cy * (y + offset) / height) for y in range(height)] for cy in range(ny)]
    rows = [channel[y * width : (y + 1) * width] for y in range(height)]
    row_sums = [[sum(map(mul, basis, row)) for row in rows] for basis in cos_x]  # [cx][y]
    return [[sum(map(mul, basis_y, row_sums[cx])) for cx in range(nx)] for basis_y in cos_y]


def blurhash(linear: list[list[float]], width: int, height: int, nx: int, ny: int) -> str:
    """BlurHash of linear-light R, G, B channels with ``nx`` x ``ny`` components."""
    sums = [_dct(channel, (width, height), nx, ny, offset=0.0) for channel in linear]
    factors = []
    for cy in range(ny):
        for cx in range(nx):
            scale = (1 if cx == 0 and cy == 0 else 2) / (width * height)
            factors.append([sums[c][cy][cx] * scale for c in range(3)])
    dc, ac = factors[0], factors[1:]
    text = _base83(nx - 1 + (ny - 1) * 9, 1)
    if ac:
        largest = max(abs(value) for factor in ac for value in factor)
        quantised = int(max(0, min(82, math.floor(largest * 166 - 0.5))))
        maximum = (quantised + 1) / 166
        text += _base83(quantised, 1)
    else:
        maximum = 1.0
        text += _base83(0, 1)
    text += _base83((_to_srgb(dc[0]) << 16) + (_to_srgb(dc[1]) << 8) + _to_srgb(dc[2]), 4)
    for factor in ac:
        quant = [
            int(max(0, min(18, math.floor(math.copysign(abs(v / maximum) ** 0.5, v) * 9 + 9.5))))
            for v in factor
        ]
        text += _base83(quant[0] * 19 * 19 + quant[1] * 19 + quant[2], 2)
    return text


def _base83(value: int, length: int) -> str:
    return "".join(BASE83[(value // 83 ** (length - 1 - i)) % 83] for i in range(length))


def thumbhash(channels: list[list[int]], width: int, height: int) -> bytes:
    """ThumbHash of 8-bit R, G, B, A channels (at most 100x100 pixels)."""
    alphas = [a / 255 for a in channels[3]]
    has_alpha = sum(alphas) < width * height
    l_limit = 5 if has_alpha else 7  # fewer luminance components when alpha needs room
    lx = max(1, round(l_limit * width / max(width, height)))
    ly = max(1, round(l_limit * height / max(width, height)))
    lum, p_chan, q_chan = _lpq(channels[:3], alphas)
    l_dc, l_ac, l_scale = _thumbhash_channel(lum, (width, height), max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _thumbhash_channel(p_chan, (width, height), 3, 3)
    q_dc, q_ac, q_scale = _thumbhash_channel(q_chan, (width, height), 3, 3)
    a_dc, a_ac, a_scale = _thumbhash_channel(alphas, (width, height), 5, 5) if has_alpha else (1.0, [], 1.0)
    landscape = width > height
    header24 = (
        _round(63 * l_dc)
        | (_round(31.5 + 31.5 * p_dc) << 6)
        | (_round(31.5 + 31.5 * q_dc) << 12)
        | (_round(31 * l_scale) << 18)
        | (int(has_alpha) << 23)
    )
    header16 = (
        (ly if landscape else lx)
        | (_round(63 * p_scale) << 3)
        | (_round(63 * q_scale) << 9)
        | (int(landscape) << 15)
    )
    packed = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    if has_alpha:
        packed.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
    odd = False
    for value in [*l_ac, *p_ac, *q_ac, *a_ac]:
        nibble = _round(15 * value)
        if odd:
            packed[-1] |= nibble << 4
        else:
            packed.append(nibble)
        odd = not odd
    return bytes(packed)


def _lpq(rgb: list[list[int]], alphas: list[float]) -> tuple[list[float], list[float], list[float]]:
    """Luminance, yellow-blue and red-green channels, composited atop the average visible colour."""
    total = sum(alphas)
    average = [sum(map(mul, alphas, channel)) / 255 / total if total else 0.0 for channel in rgb]
    lum, p_chan, q_chan = [], [], []
    for a, red, green, blue in zip(alphas, *rgb, strict=True):
        r = average[0] * (1 - a) + a / 255 * red
        g = average[1] * (1 - a) + a / 255 * green
        b = average[2] * (1 - a) + a / 255 * blue
        lum.append((r + g + b) / 3)
        p_chan.append((r + g) / 2 - b)
        q_chan.append(r - g)
    return lum, p_chan, q_chan


def _thumbhash_channel(
    channel: list[float], size: tuple[int, int], nx: int, ny: int
) -> tuple[float, list[float], float]:
    """A channel's DC term, its AC terms (the triangle cx * ny < nx * (ny - cy)) normalised to 0..1, and
    their scale."""
    sums = _dct(channel, size, nx, ny, offset=0.5)
    count = size[0] * size[1]
    dc, ac, scale = 0.0, [], 0.0
    for cy in range(ny):
        cx = 0
        while cx * ny < nx * (ny - cy):
            value = sums[cy][cx] / count
            if abs(value) < EXACT_ZERO:  # a term that cancels exactly (flat alpha): no rounding noise
                value = 0.0
            if cx or cy:
                ac.append(value)
                scale = max(scale, abs(value))
            else:
                dc = value
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * value for value in ac]
    return dc, ac, scale


def _round(value: float) -> int:
    """Round half away from zero, as JavaScript's and Rust's round do for the non-negative values here."""
    return math.floor(value + 0.5)
