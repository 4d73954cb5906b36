"""Image makers for the tests: every test image is built here, in memory."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw

ORIENTATION = 0x0112
# Small real files committed for the tests (CMYK without a profile, and others).
FILES = Path(__file__).resolve().parent.parent / "tests" / "files"
# Transposes that store an upright image so that applying EXIF orientation N brings it back upright.
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def gradient(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    """A smooth image with different content in every corner, so flips and rotations are visible."""
    width, height = size
    image = Image.new("RGB", size)
    pixels = image.load()
    for y in range(height):
        for x in range(width):
            pixels[x, y] = (x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), 128)
    return image.convert(mode) if mode != "RGB" else image


def marked(size: tuple[int, int] = (60, 40)) -> Image.Image:
    """Grey image with a red block at top-left and a blue block at bottom-right."""
    width, height = size
    image = Image.new("RGB", size, (128, 128, 128))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 3, height // 3), fill=(255, 0, 0))
    draw.rectangle((width - width // 3, height - height // 3, width - 1, height - 1), fill=(0, 0, 255))
    return image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    """Save ``image`` as ``fmt`` and return the bytes."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (64, 48), orientation: int | None = None, quality: int = 95) -> bytes:
    """A gradient JPEG, with an EXIF orientation tag when asked."""
    params: dict[str, object] = {"quality": quality}
    if orientation is not None:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        params["exif"] = exif.tobytes()
    return encode(gradient(size), "JPEG", **params)


def png(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    """A gradient PNG in ``mode``."""
    return encode(gradient(size, mode), "PNG")


def open_bytes(data: bytes) -> Image.Image:
    """Decode bytes fully."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_16bit(width: int, height: int, colour_type: int, sample) -> bytes:
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit RGB): colour type 0 grey, 2 RGB, 4 grey+alpha,
    6 RGBA; ``sample(x, y)`` returns the channel values (0-65535) of one pixel."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(
        b"\0" + b"".join(struct.pack(">" + "H" * len(px), *px) for px in (sample(x, y) for x in range(width)))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def checkerboard(size: int) -> Image.Image:
    """A 1-pixel black and white checkerboard: the worst case for aliasing."""
    image = Image.new("L", (size, size))
    image.putdata([255 * ((x + y) % 2) for y in range(size) for x in range(size)])
    return image


def animation(colours, durations, fmt: str = "GIF", size=(40, 30), **params: object) -> bytes:
    """An animation with one flat frame per colour."""
    frames = [Image.new("RGB", size, colour) for colour in colours]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=durations, **params)


def frames_of(data: bytes) -> list[bytes]:
    """The RGBA pixels of every frame of an encoded image."""
    image = Image.open(io.BytesIO(data))
    frames = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frames.append(image.convert("RGBA").tobytes())
    return frames


def assert_same_image(ours: bytes, theirs: bytes, name: str) -> None:
    """The same bytes; for AVIF sequences, whose header carries the encoding time in seconds, the same
    length and the same pixels in every frame."""
    if ours == theirs:
        return
    assert ours[4:8] == b"ftyp" and b"avis" in ours[:32], f"{name}: the bytes differ"
    assert len(ours) == len(theirs), name
    assert frames_of(ours) == frames_of(theirs), name


def textured(size: tuple[int, int] = (192, 144), seed: int = 1) -> Image.Image:
    """Photo-like and costly to encode: smooth colour fields under fine seeded grain (think foliage)."""
    rng = random.Random(seed)
    width, height = size
    coarse = (width // 16 + 1, height // 16 + 1)
    field = Image.frombytes("RGB", coarse, rng.randbytes(3 * coarse[0] * coarse[1])).resize(
        size, Image.BICUBIC
    )
    grain = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGB")
    return Image.blend(field, grain, 0.25)


def flat_graphic(size: tuple[int, int] = (192, 144)) -> Image.Image:
    """An illustration of a few solid shapes on a plain background: cheap to encode well."""
    width, height = size
    image = Image.new("RGB", size, (236, 240, 232))
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 10, height // 8, width // 2, height // 2), fill=(40, 90, 160))
    draw.ellipse((width // 2, height // 3, width - width // 10, height - height // 10), fill=(230, 160, 40))
    draw.polygon(
        [(width // 8, height - 8), (width // 3, height // 2 + 8), (width // 2, height - 8)],
        fill=(60, 150, 90),
    )
    return image


def photo(size=(1600, 1200), orientation=None) -> bytes:
    """A photo-like JPEG: smooth colour fields with grain, so every decode scale shows."""
    field = Image.effect_noise((size[0] // 32, size[1] // 32), 64).convert("RGB")
    image = Image.blend(field, Image.new("RGB", field.size, (30, 140, 200)), 0.4).resize(size, Image.BICUBIC)
    grain = Image.merge("RGB", [Image.effect_noise(size, 8)] * 3)
    image = Image.blend(image, grain, 0.2)
    params = {"quality": 90}
    if orientation:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        params["exif"] = exif.tobytes()
    return encode(image, "JPEG", **params)


def stored_jpeg(upright: Image.Image, orientation: int) -> bytes:
    method = STORE_FOR_ORIENTATION[orientation]
    stored = upright if method is None else upright.transpose(method)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


def colourful(size=(64, 64)) -> Image.Image:
    """Saturated colours across the gamut, where wide-gamut profiles differ most from sRGB."""
    image = Image.new("RGB", size)
    image.putdata([(x * 4, 250 - y * 3, 40 + (x + y) * 2) for y in range(size[1]) for x in range(size[0])])
    return image


def scene(size: tuple[int, int] = (2400, 1600)) -> bytes:
    """A photo-like JPEG with something to look at: a sky-to-ground gradient, a sun and hills, with grain."""
    width, height = size
    sky = Image.linear_gradient("L").resize(size).point(lambda value: 90 + value // 2)
    image = Image.merge("RGB", (sky.point(lambda v: v // 2), sky.point(lambda v: v * 3 // 4), sky))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.62, height * 0.12, width * 0.78, height * 0.36), fill=(250, 200, 80))
    for index, colour in enumerate(((60, 120, 60), (40, 95, 45), (30, 70, 35))):
        top = height * (0.55 + 0.12 * index)
        ridge = [(0, top), (width * 0.35, top - height * 0.15), (width, top + height * 0.05)]
        draw.polygon([(0, height), *ridge, (width, height)], fill=colour)
    grain = Image.merge("RGB", [Image.effect_noise(size, 10)] * 3)
    return encode(Image.blend(image, grain, 0.08), "JPEG", quality=90)
