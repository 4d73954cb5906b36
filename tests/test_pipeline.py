"""The pipeline alone: no Flask, images made by the tests."""

from __future__ import annotations

import pytest
from PIL import Image

from imgopt.errors import ImageTooLarge, UnprocessableImage, UnsupportedFormat
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from testing import images
from testing.settings import pipeline_settings

SETTINGS = pipeline_settings()


def run(data: bytes, **options: object):
    return convert(data, ConvertOptions(**options), SETTINGS).rendition


@pytest.mark.parametrize(
    ("fmt", "signature"),
    [("webp", b"WEBP"), ("avif", b"ftypavif"), ("jpeg", b"\xff\xd8"), ("png", b"\x89PNG")],
)
def test_output_format_is_the_one_asked_for(fmt, signature):
    result = run(images.jpeg(), format=fmt)
    assert signature in result.data[:16]
    assert images.open_bytes(result.data).format == fmt.upper()


@pytest.mark.parametrize(
    "source",
    [
        images.jpeg(),
        images.png(),
        images.encode(images.gradient(), "GIF"),
        images.encode(images.gradient(), "WEBP"),
        images.encode(images.gradient(), "TIFF"),
        images.encode(images.gradient(), "BMP"),
    ],
    ids=["jpeg", "png", "gif", "webp", "tiff", "bmp"],
)
def test_every_input_format_converts_to_webp(source):
    result = run(source)
    assert (result.width, result.height) == (64, 48)
    assert images.open_bytes(result.data).format == "WEBP"


def test_avif_input_converts():
    avif = run(images.jpeg(), format="avif").data
    result = convert(avif, ConvertOptions(), SETTINGS)
    assert result.source.format == "avif"
    assert (result.rendition.width, result.rendition.height) == (64, 48)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"width": 32}, (32, 24)),
        ({"height": 12}, (16, 12)),
        ({"width": 20, "height": 30}, (20, 30)),
        ({}, (64, 48)),
    ],
)
def test_resize_follows_width_and_height(options, expected):
    result = run(images.jpeg((64, 48)), **options)
    assert (result.width, result.height) == expected
    assert images.open_bytes(result.data).size == expected


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_output_carries_no_metadata(fmt):
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0112] = 1
    source = images.encode(images.gradient(), "JPEG", exif=exif.tobytes(), comment=b"secret")
    result = run(source, format=fmt)
    decoded = images.open_bytes(result.data)
    assert not decoded.info.get("exif")
    assert not decoded.info.get("xmp")
    assert not decoded.info.get("icc_profile")
    assert b"CameraMaker" not in result.data
    assert b"secret" not in result.data


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", UnsupportedFormat),
        (b"hello, this is text and not an image", UnsupportedFormat),
        (images.jpeg()[:200], UnprocessableImage),
    ],
    ids=["empty", "text", "truncated-jpeg"],
)
def test_bad_input_raises_a_domain_error(data, error):
    with pytest.raises(error):
        run(data)


def test_source_over_the_pixel_limit_is_refused_before_decoding():
    data = images.jpeg((100, 100))
    with pytest.raises(ImageTooLarge) as caught:
        convert(data, ConvertOptions(), pipeline_settings(max_source_pixels=9_999))
    assert caught.value.status == 422
    assert "MAX_SOURCE_PIXELS" in caught.value.message


@pytest.mark.parametrize(
    ("fmt", "mode", "refused"),
    [("PNG", "RGB", False), ("PNG", "RGBA", True), ("WEBP", "RGB", True), ("JPEG", "RGB", False)],
)
def test_memory_budget_counts_each_formats_measured_peak(fmt, mode, refused):
    # 2000x2000 = 4 MP: 15 MiB of RGB pixels; the PNG RGB peak (x1.3) fits 24 MiB, RGBA (x2.3) and WebP
    # (x4) do not; JPEG is drafted to 1/8 for the 200 px output.
    data = images.encode(Image.new(mode, (2000, 2000), "red"), fmt)
    settings = pipeline_settings(max_decode_bytes=24 * 1024 * 1024)
    if refused:
        with pytest.raises(ImageTooLarge, match="MAX_DECODE_MB"):
            convert(data, ConvertOptions(width=200), settings)
    else:
        assert convert(data, ConvertOptions(width=200), settings).rendition.width == 200


def test_encode_time_estimate_refuses_hopeless_outputs():
    settings = pipeline_settings(max_encode_seconds=1.0)
    with pytest.raises(ImageTooLarge) as caught:
        convert(images.jpeg((64, 48)), ConvertOptions(format="avif", width=4096, enlarge=True), settings)
    assert caught.value.code == "output_too_large"
    assert convert(
        images.jpeg((64, 48)), ConvertOptions(format="avif", width=256, enlarge=True), settings
    ).rendition
