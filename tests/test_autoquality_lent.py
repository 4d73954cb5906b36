"""quality=auto on lent threads chooses what it chooses on one: the same quality, score and image, for the
bench's kinds of image (real photos, a CMYK scan, grain, flat graphics, a 16-bit flag, transparency, an
AVIF upload) in WebP, AVIF and format=auto, both made here, in this process: what is compared never depends
on a codec wheel's exact bytes. WebP and JPEG are compared byte for byte; AVIF by size and pixels (aom's bytes
are repeatable within one process, but that is aom's promise, not ours)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgopt.imaging.context import RequestContext
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.parallel import lend_none, lend_up_to
from imgopt.imaging.pipeline import convert
from testing import images
from testing.graphics import GRAPHICS
from testing.settings import pipeline_settings

FILES = Path(__file__).parent / "files"
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


def made(data: bytes, fmt: str, borrow, settings=SETTINGS):
    options = ConvertOptions(format=fmt, width=1200, auto_quality=True)
    return convert(data, options, settings, context=RequestContext(borrow=borrow)).rendition


CASES = [(name, fmt) for name in sorted(uploads()) for fmt in FORMATS]


@pytest.fixture(scope="module")
def data() -> dict[str, bytes]:
    return uploads()


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_lent_threads_choose_the_quality_and_image_one_thread_chooses(data, name, fmt):
    alone = made(data[name], fmt, lend_none)
    lent = made(data[name], fmt, lend_up_to(1), LENT_SETTINGS)
    assert (lent.format, lent.quality, lent.score) == (alone.format, alone.quality, alone.score)
    if alone.format == "avif":
        assert len(lent.data) == len(alone.data)
        assert images.frames_of(lent.data) == images.frames_of(alone.data)
    else:
        assert lent.data == alone.data
