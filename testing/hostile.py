"""A corpus of hostile and broken uploads, generated in memory (nothing is read from outside the repo)."""

from __future__ import annotations

import random
import struct
import zlib

from PIL import Image

from testing import images


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int, extra_chunks: bytes = b"") -> bytes:
    """A PNG whose header claims width x height but whose data is a few bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + extra_chunks
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def png_text_bomb() -> bytes:
    """A PNG with a zTXt chunk that inflates to 64 MiB."""
    bomb = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)
    return png_claiming(4, 4, _chunk(b"zTXt", b"Comment\0\0" + bomb))


def gif_screen(width: int, height: int) -> bytes:
    """A tiny GIF whose logical screen claims width x height."""
    data = bytearray(images.encode(Image.new("P", (4, 4)), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def gif_frames(count: int) -> bytes:
    """A GIF with ``count`` 1x1 frames, written block by block (fast even for thousands)."""
    header = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (
        b"\x21\xf9\x04\x00\x01\x00\x00\x00"
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00"
    )
    return header + loop + frame * count + b"\x3b"


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG with its SOF0 size patched."""
    data = bytearray(images.jpeg((16, 16)))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def bmp_claiming(width: int, height: int) -> bytes:
    data = bytearray(images.encode(images.gradient((8, 8)), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def strip(width: int, height: int) -> bytes:
    return images.encode(Image.new("L", (width, height), 128), "PNG")


def seeds() -> dict[str, bytes]:
    """One valid small file per accepted format (plus an animation and EXIF/ICC carriers)."""
    gradient = images.gradient((48, 32))
    return {
        "jpeg": images.jpeg((48, 32), orientation=6),
        "png": images.encode(gradient.convert("RGBA"), "PNG"),
        "gif": images.animation([(255, 0, 0), (0, 0, 255)], [50, 50], "GIF", loop=0),
        "webp": images.encode(gradient, "WEBP", quality=80),
        "avif": images.encode(gradient, "AVIF", quality=60),
        "tiff": images.encode(gradient, "TIFF", compression="tiff_lzw"),
        "bmp": images.encode(gradient, "BMP"),
    }


def truncations(data: bytes, name: str) -> dict[str, bytes]:
    cuts = sorted({1, 2, 8, 16, 33, len(data) // 4, len(data) // 2, len(data) - 40, len(data) - 2})
    return {f"{name}-cut-{cut}": data[:cut] for cut in cuts if 0 < cut < len(data)}


def bit_flips(data: bytes, name: str, rounds: int = 4) -> dict[str, bytes]:
    out = {}
    for seed in range(rounds):
        rng = random.Random(f"{name}-{seed}")
        mutated = bytearray(data)
        for _ in range(1 + seed * 3):
            position = rng.randrange(len(mutated))
            mutated[position] ^= 1 << rng.randrange(8)
        out[f"{name}-flip-{seed}"] = bytes(mutated)
    return out


def corpus() -> dict[str, bytes]:
    """Every hostile case by name."""
    cases: dict[str, bytes] = {}
    for name, data in seeds().items():
        cases.update(truncations(data, name))
        cases.update(bit_flips(data, name))
    broken_exif = images.encode(images.gradient(), "JPEG", exif=b"Exif\0\0MM\0*\0\0\0\x08\xff\xff")
    jpeg = images.encode(images.gradient(), "JPEG")
    cases.update(
        {
            "png-claims-60000x60000": png_claiming(60000, 60000),
            "png-claims-0x0": png_claiming(0, 0),
            "png-text-bomb": png_text_bomb(),
            "jpeg-claims-65000x65000": jpeg_claiming(65000, 65000),
            "bmp-claims-huge": bmp_claiming(60000, 60000),
            "bmp-claims-negative": bmp_claiming(-5, -5),
            "gif-huge-screen": gif_screen(65535, 65535),
            "gif-10000-frames": gif_frames(10000),
            "strip-1x100000": strip(1, 100000),
            "strip-100000x1": strip(100000, 1),
            "zero-bytes": b"",
            "text": b"Hello, I am not an image.\n" * 20,
            "html": b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>",
            "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>',
            "pdf": b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
            "eps": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
            "psd": b"8BPS\0\x01" + b"\0" * 6 + b"\0\x03\0\0\0\x10\0\0\0\x10\0\x08\0\x03" + b"\0" * 64,
            "tga": images.encode(images.gradient((8, 8)), "TGA"),
            "pcx": images.encode(images.gradient((8, 8)), "PCX"),
            "ico": images.encode(images.gradient((16, 16)), "ICO"),
            "sgi": images.encode(images.gradient((8, 8)), "SGI"),
            "ppm": images.encode(images.gradient((8, 8)), "PPM"),
            "polyglot-gif-js": b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=alert(1);//" + b"\0" * 20,
            "polyglot-jpeg-zip": jpeg + b"PK\x03\x04" + b"\0" * 26 + b"evil.sh",
            "polyglot-png-html": images.png() + b"<script>alert(1)</script>",
            "jpeg-broken-exif": broken_exif,
            "jpeg-broken-icc": images.encode(images.gradient(), "JPEG", icc_profile=b"\0" * 200),
            "png-broken-icc": images.encode(images.gradient(), "PNG", icc_profile=b"garbage" * 30),
            "webp-broken-exif": images.encode(
                images.gradient(), "WEBP", exif=b"Exif\0\0II*\0\xff\xff\xff\xff"
            ),
        }
    )
    return cases
