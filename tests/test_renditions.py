"""Rendition sets without HTTP: every rendition is as faithful as what convert() makes, from shared decodes
and shared resizes."""

from __future__ import annotations

import pytest
from PIL import Image

from imgopt.errors import ImageTooLarge
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert, describe, render_set
from testing import images
from testing.fidelity import assert_as_faithful
from testing.images import FILES, photo
from testing.settings import pipeline_settings

SETTINGS = pipeline_settings()
CMS = [
    (f"{fmt}-{width}", ConvertOptions(format=fmt, width=width))
    for width in (320, 768, 1200)
    for fmt in ("webp", "avif")
]


def cmyk_jpeg_without_profile() -> bytes:
    return (FILES / "Channel_digital_image_CMYK_color_no_profile.jpg").read_bytes()


def assert_matches_convert(data: bytes, requests) -> None:
    result = render_set(data, requests, SETTINGS)
    assert [rendition.name for rendition in result.renditions] == [name for name, _ in requests]
    for rendition, (_name, options) in zip(result.renditions, requests, strict=True):
        assert_as_faithful(data, options, rendition, convert(data, options, SETTINGS).rendition)


SOURCES = {
    "jpeg-rotated-6": lambda: photo((1600, 1200), orientation=6),
    "jpeg-rotated-3": lambda: photo((900, 700), orientation=3),
    "png-transparent": lambda: images.png((500, 300), "RGBA"),
    "gif-animated": lambda: images.animation(["red", "green", "blue"], [80, 120, 160], size=(200, 150)),
    "cmyk-jpeg": cmyk_jpeg_without_profile,
    "webp-animated": lambda: images.animation(["red", "blue"], [50, 70], fmt="WEBP", size=(300, 200)),
    "png-photo": lambda: images.encode(images.textured((1600, 1200)), "PNG"),
}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_rendition_is_as_faithful_as_convert(source):
    requests = [
        *CMS,
        ("cover-square", ConvertOptions(width=150, height=150, fit="cover", format="webp")),
        ("contain-jpeg", ConvertOptions(width=200, height=90, fit="contain", format="jpeg", quality=70)),
        ("png-lossless", ConvertOptions(width=100, format="png")),
        ("still", ConvertOptions(width=120, animated=False)),
        ("enlarged", ConvertOptions(width=2000, enlarge=True, format="jpeg")),
        ("cropped", ConvertOptions(crop=(10, 20, 100, 60), width=50)),
        ("focused", ConvertOptions(width=90, height=90, fit="cover", focus=(0.8, 0.2), format="avif")),
        ("smart", ConvertOptions(width=80, height=80, fit="cover", gravity="smart", format="png")),
        (
            "smart-wide",
            ConvertOptions(width=120, height=40, fit="cover", gravity="smart", crop=(0, 0, 150, 100)),
        ),
        ("north", ConvertOptions(width=60, height=30, fit="cover", gravity="north")),
    ]
    assert_matches_convert(SOURCES[source](), requests)


def test_a_jpeg_is_decoded_once_per_scale_not_once_per_rendition():
    result = render_set(photo((1600, 1200)), CMS, SETTINGS)
    # 1200 needs the full decode, 768 the 1/2, 320 the 1/4 and the placeholder the 1/8.
    assert result.decoded_sizes == ((1600, 1200), (800, 600), (400, 300), (200, 150))


def test_smaller_renditions_are_resized_from_larger_ones_well_above_them():
    requests = [
        ("1200", ConvertOptions(width=1200)),
        ("800", ConvertOptions(width=800)),
        ("400", ConvertOptions(width=400, format="avif")),
        ("square", ConvertOptions(width=150, height=150, fit="cover")),
        ("crop", ConvertOptions(crop=(0, 0, 800, 600), width=300)),
    ]
    result = render_set(images.encode(images.textured((1600, 1200)), "PNG"), requests, SETTINGS)
    # 1200 is no intermediate: it is under 2x smaller than the decode. 800 is, for 400 and the 200x150 the
    # square is cut from; 400 is one for that square; the crop needs 600x450 of the whole: 1600x1200.
    assert result.resized_from == ((1600, 1200), (1600, 1200), (800, 600), (400, 300), (1600, 1200))


def test_an_image_with_alpha_has_every_rendition_resized_from_its_decode():
    requests = [("800", ConvertOptions(width=800)), ("300", ConvertOptions(width=300))]
    result = render_set(images.png((1600, 1200), "RGBA"), requests, SETTINGS)
    assert result.resized_from == ((1600, 1200), (1600, 1200))


def test_a_jpeg_rendition_comes_from_its_own_scale_not_from_a_larger_rendition():
    result = render_set(photo((1600, 1200)), CMS, SETTINGS)
    assert result.resized_from == ((400, 300), (400, 300), (800, 600), (800, 600), (1600, 1200), (1600, 1200))


def test_a_png_is_decoded_once():
    result = render_set(images.png((640, 480), "RGBA"), CMS, SETTINGS)
    assert result.decoded_sizes == ((640, 480),)


@pytest.mark.parametrize(
    ("data", "facts"),
    [
        (photo((800, 600), orientation=6), ("jpeg", 600, 800, 1, False, False)),
        (images.png((64, 48), "RGBA"), ("png", 64, 48, 1, False, False)),
        (
            images.encode(Image.new("RGBA", (40, 30), (255, 0, 0, 128)), "PNG"),
            ("png", 40, 30, 1, False, True),
        ),
        (images.animation(["red", "blue", "red"], [50, 50, 50]), ("gif", 40, 30, 3, True, False)),
    ],
    ids=["rotated-jpeg", "opaque-rgba-png", "translucent-png", "gif"],
)
def test_source_facts_are_upright_and_honest_about_alpha(data, facts):
    source = describe(data, SETTINGS).source
    assert (
        source.format,
        source.width,
        source.height,
        source.frames,
        source.animated,
        source.has_alpha,
    ) == facts


@pytest.mark.parametrize(
    "data",
    [photo((1600, 1200), orientation=8), images.png((300, 200), "RGBA"), cmyk_jpeg_without_profile()],
    ids=["jpeg", "png", "cmyk"],
)
def test_info_and_variants_give_the_same_facts_and_placeholder(data):
    alone = describe(data, SETTINGS)
    with_renditions = render_set(data, CMS, SETTINGS)
    assert alone.source == with_renditions.source
    assert alone.placeholder == with_renditions.placeholder


def test_info_decodes_a_jpeg_at_an_eighth():
    assert describe(photo((1600, 1200)), SETTINGS).decoded_sizes == ((200, 150),)


def test_the_placeholder_colour_is_the_images_colour():
    result = describe(images.encode(Image.new("RGB", (300, 200), (200, 30, 60)), "PNG"), SETTINGS)
    assert result.placeholder.color == "#c81e3c"


def test_the_memory_budget_counts_every_rendition():
    data = images.png((1000, 1000))
    settings = pipeline_settings(max_decode_bytes=12 * 1024 * 1024)  # one 1000x1000 output fits, four do not
    one = [("a", ConvertOptions(width=1000))]
    assert render_set(data, one, settings).renditions
    with pytest.raises(ImageTooLarge, match="MAX_DECODE_MB"):
        render_set(data, [(name, ConvertOptions(width=1000)) for name in "abcd"], settings)


def test_the_encode_time_budget_counts_every_rendition():
    settings = pipeline_settings(max_encode_seconds=0.6)
    one = [("a", ConvertOptions(format="avif", width=1500, enlarge=True))]  # 1500x1125 at 4 MP/s: 0.42 s
    assert render_set(images.jpeg(), one, settings).renditions
    with pytest.raises(ImageTooLarge) as caught:
        render_set(images.jpeg(), one * 2, settings)
    assert caught.value.code == "output_too_large"
    assert "2 renditions" in caught.value.message


@pytest.fixture
def opens(monkeypatch):
    """Count every open of the upload, wherever the pipeline makes it."""
    from imgopt.imaging import pipeline, source

    calls = []
    real = source.open_image

    def recording(data):
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(source, "open_image", recording)
    monkeypatch.setattr(pipeline, "open_image", recording)
    return calls


@pytest.mark.parametrize(
    ("data", "expected_decodes"),
    [
        (photo((1600, 1200)), 4),
        (photo((1600, 1200), orientation=6), 3),
        (images.encode(images.textured((800, 600)), "PNG"), 1),
        (images.animation(["red", "blue"], [50, 70], fmt="WEBP", size=(300, 200)), 1),
    ],
    ids=["jpeg", "jpeg-rotated", "png", "webp-animated"],
)
def test_the_upload_is_opened_once_per_distinct_decode(opens, data, expected_decodes):
    result = render_set(data, CMS, SETTINGS)
    assert len(result.decoded_sizes) == expected_decodes
    assert len(opens) == expected_decodes


@pytest.mark.parametrize("size", [(1600, 1200), (1200, 1600), (4032, 3024), (641, 479), (40, 20), (9, 9)])
@pytest.mark.parametrize(
    "box", [(1600, 1200), (800, 601), (400, 300), (199, 150), (32, 32), (1, 1), (5000, 10)]
)
def test_the_jpeg_decode_size_is_known_from_the_header_as_pillow_drafts_it(size, box):
    from imgopt.imaging.source import apply_draft, jpeg_draft_size, open_image

    with open_image(images.encode(Image.new("RGB", size, "grey"), "JPEG")) as opened:
        apply_draft(opened, box, 1)
        assert jpeg_draft_size(size, box) == opened.size
