"""quality=auto on lent threads chooses what it chose on one: the same quality and the same bytes, for the
bench's kinds of image (real photos, a CMYK scan, grain, flat graphics, a 16-bit flag, transparency, an
AVIF upload) in WebP, AVIF and format=auto. tests/files/auto-quality-choices.json holds the choices the
search made on one thread before it could use lent ones; `python -m tests.test_autoquality_lent` remakes it
(only after a change that means to alter them)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.parallel import lend_none, lend_up_to
from imgopt.imaging.pipeline import convert
from testing import images
from testing.graphics import GRAPHICS
from testing.settings import pipeline_settings

FILES = Path(__file__).parent / "files"
CHOICES = FILES / "auto-quality-choices.json"
FORMATS = ("webp", "avif", "auto")
SETTINGS = pipeline_settings()
# Two threads whatever the machine has, so that lend_up_to(1) lends one on a one-core runner too.
LENT_SETTINGS = pipeline_settings(rendition_threads=2)


def uploads() -> dict[str, bytes]:
    """The images, as uploads."""
    made = {
        "textured": images.encode(images.textured((1200, 900)), "PNG"),
        "flat-graphic": images.encode(images.flat_graphic((1200, 900)), "PNG"),
        "flag": images.encode(GRAPHICS["flag.png"](), "PNG"),
        "illustration": images.encode(GRAPHICS["illustration.png"](), "PNG"),
    }
    kept = {
        "photo": FILES / "ssimulacra2" / "photo.png",
        "cmyk-scan": FILES / "Channel_digital_image_CMYK_color_no_profile.jpg",
        "flag-16-bit": FILES / "Flag_of_the_Netherlands-16bit.png",
        "alpha": FILES / "with-alpha.png",
        "avif-upload": FILES / "pitm.avif",
    }
    return {**made, **{name: path.read_bytes() for name, path in kept.items()}}


def choice(data: bytes, fmt: str, borrow, settings=SETTINGS) -> dict:
    options = ConvertOptions(format=fmt, width=1200, auto_quality=True)
    made = convert(data, options, settings, borrow=borrow).rendition
    return {
        "format": made.format,
        "quality": made.quality,
        "bytes": len(made.data),
        "sha256": hashlib.sha256(made.data).hexdigest(),
    }


CASES = [(name, fmt) for name in sorted(uploads()) for fmt in FORMATS]


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(CHOICES.read_text())


@pytest.fixture(scope="module")
def data() -> dict[str, bytes]:
    return uploads()


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_lent_threads_choose_the_quality_and_bytes_one_thread_chose(recorded, data, name, fmt):
    assert choice(data[name], fmt, lend_up_to(1), LENT_SETTINGS) == recorded[f"{name}/{fmt}"]


@pytest.mark.parametrize(("name", "fmt"), [case for case in CASES if case[1] != "auto"])
def test_one_thread_still_chooses_them(recorded, data, name, fmt):
    assert choice(data[name], fmt, lend_none) == recorded[f"{name}/{fmt}"]


if __name__ == "__main__":
    sources = uploads()
    table = {f"{name}/{fmt}": choice(sources[name], fmt, lend_none) for name, fmt in CASES}
    CHOICES.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {len(table)} choices to {CHOICES}\n")
