"""BlurHash and ThumbHash match the published reference encoders; the mean colour is the image's."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageStat

from imgopt.imaging.describe.placeholder import BASE83, make_proxy, placeholder, proxy_size


def pattern(size: tuple[int, int], alpha: bool) -> Image.Image:
    """A proxy with no symmetry, so no DCT term cancels to exactly zero (where rounding noise would decide
    a quantised digit in every implementation)."""
    width, height = size
    image = Image.new("RGBA", size)
    image.putdata(
        [
            (
                (x * x * 7 + y * 3) % 256,
                (x * 11 + y * y * 5) % 256,
                (x * y * 13 + 17) % 256,
                (x * 29 + y * y * 3) % 256 if alpha else 255,
            )
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


# Expected strings from the reference encoders on the same pixels: BlurHash from woltapp's C encoder (PyPI
# blurhash-python 1.2.2), ThumbHash from evanw's JavaScript encoder (npm thumbhash 0.1.1).
REFERENCE = [
    ((32, 24), False, "L9GI_rb@9b2,]VIp0N-S:iNGMfm-", "HegFFYRFIFZlkkl2ZVhYdHlqb9n1"),
    ((24, 32), False, "LCF$^Uxa0M7v=vDnKvxa#R9[rE=H", "3dcFDQIGckeHdGV5VndoZkwMnZH6"),
    ((32, 32), False, "L9G9W}TXMM0#=aVc0$%u+IE{D*#A", "3ucFDwJmQFd2lFdndWlndneFxsv00ZsP"),
    ((7, 3), False, "LfD??W1as9$k]iAtwyoJwGOFsoWU", "D1gOM5CAeHiGeHh4gz8HuWU="),
    ((32, 24), True, None, "HuiBDIIHVyB2o4dXuVf3plt/EzNFBSIiAQ=="),
    ((24, 32), True, None, "HtiBDAAHCHKFiXaH96CwDtd/E0IzFEYQAQ=="),
    ((32, 32), True, None, "3ueBBQIHd0CGpHdmea9nKZ/aWTFEQVEFIQ=="),
]


@pytest.mark.parametrize(("size", "alpha", "blurhash", "thumbhash"), REFERENCE)
def test_hashes_match_the_reference_encoders(size, alpha, blurhash, thumbhash):
    made = placeholder(pattern(size, alpha))
    assert made.thumbhash == thumbhash
    if blurhash is not None:  # BlurHash has no alpha; ours fills transparent pixels (below)
        assert made.blurhash == blurhash


def blurhash_average(blurhash: str) -> str:
    """The average colour a BlurHash carries in characters 2-5 (base 83), as #rrggbb."""
    value = 0
    for character in blurhash[2:6]:
        value = value * 83 + BASE83.index(character)
    return f"#{value:06x}"


@pytest.mark.parametrize(
    ("colour", "expected"), [((255, 0, 0), "#ff0000"), ((0, 0, 0), "#000000"), ((18, 200, 77), "#12c84d")]
)
def test_a_flat_image_has_its_colour(colour, expected):
    made = placeholder(Image.new("RGB", (32, 24), colour))
    assert made.color == expected
    assert blurhash_average(made.blurhash) == expected


def test_the_mean_colour_is_a_linear_light_average():
    half = Image.new("RGB", (32, 32), (0, 0, 0))
    half.paste((255, 255, 255), (0, 0, 16, 32))
    # Half black, half white is 50% light: sRGB 188, not the 128 an average of the bytes would give.
    made = placeholder(half)
    assert made.color == "#bcbcbc"
    assert blurhash_average(made.blurhash) == "#bcbcbc"


def test_transparent_pixels_do_not_colour_the_placeholder():
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))  # invisible black
    image.paste((0, 0, 255, 255), (8, 8, 24, 24))
    made = placeholder(image)
    assert made.color == "#0000ff"
    assert placeholder(Image.new("RGB", (32, 32), (0, 0, 255))).blurhash == made.blurhash


def test_thumbhash_records_alpha_and_aspect():
    opaque = base64.b64decode(placeholder(pattern((32, 16), False)).thumbhash)
    cutout = base64.b64decode(placeholder(pattern((16, 32), True)).thumbhash)
    assert not opaque[2] & 0x80 and cutout[2] & 0x80  # the has-alpha bit
    assert opaque[4] & 0x80 and not cutout[4] & 0x80  # the landscape bit


@pytest.mark.parametrize(
    ("size", "proxy"),
    [((4032, 3024), (32, 24)), ((3024, 4032), (24, 32)), ((20, 10), (20, 10)), ((1, 5000), (1, 32))],
)
def test_the_proxy_keeps_the_aspect_ratio_within_32_pixels(size, proxy):
    assert proxy_size(size) == proxy


def test_the_proxy_of_a_transparent_image_is_premultiplied():
    image = Image.new("RGBA", (64, 64), (255, 0, 0, 0))  # invisible red
    image.paste((0, 255, 0, 255), (0, 0, 32, 64))
    proxy = make_proxy(image)
    assert proxy.size == (32, 32)
    assert proxy.getpixel((15, 10)) == (0, 255, 0, 255)
    assert proxy.getpixel((20, 10))[3] == 0


@pytest.mark.parametrize("alpha", [False, True], ids=["opaque", "transparent"])
def test_the_data_uri_is_a_tiny_webp_any_browser_decodes(alpha):
    proxy = pattern((32, 24), alpha)
    uri = placeholder(proxy).data_uri
    prefix = "data:image/webp;base64,"
    assert uri.startswith(prefix)
    assert len(uri) <= 600
    image = Image.open(io.BytesIO(base64.b64decode(uri[len(prefix) :])))
    assert image.format == "WEBP"
    assert image.size == (20, 15)
    assert ("A" in image.getbands()) is alpha
    # It looks like the proxy: the mean colours agree within a few levels.
    ours = ImageStat.Stat(image.convert("RGB")).mean
    theirs = ImageStat.Stat(proxy.convert("RGB").resize(image.size, Image.Resampling.BOX)).mean
    assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) < 12


def test_the_data_uri_of_an_opaque_rgba_proxy_has_no_alpha_channel():
    proxy = pattern((32, 24), False).convert("RGBA")
    uri = placeholder(proxy).data_uri
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert image.mode == "RGB"
