"""Pixel operations: each one's pixels against GD's arithmetic (the C code of libgd 2.3 and PHP 8.2,
transcribed here pixel by pixel, on small images the tests make), table-driven, and against PHP's own GD
where it is installed; the parser and its errors; the declarations against docs/api.md, docs/openapi.yaml
and the error registry; and live, /variants renditions that share a resize but differ in their
operations, and an animation."""

from __future__ import annotations

import base64
import io
import json
import math
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from imgopt.errors import OPERATION_NAMES, InvalidOption
from imgopt.imaging import operations
from imgopt.imaging.operations import OPERATIONS, reference
from imgopt.imaging.operations.border import overlay_rects
from imgopt.imaging.operations.gd import php_round
from imgopt.imaging.operations.sharpen import matrix
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import render_set
from testing import images
from testing.settings import pipeline_settings

ROOT = Path(__file__).parent.parent
F32 = np.float32


def made(size=(9, 7), mode="RGBA", seed=3) -> Image.Image:
    """Random pixels, half-transparent in places: every channel value occurs, edges differ from middles."""
    rng = random.Random(seed)
    channels = len(mode)
    pixels = [tuple(rng.randrange(256) for _ in range(channels)) for _ in range(size[0] * size[1])]
    image = Image.new(mode, size)
    image.putdata(pixels)
    return image


def run(text: str, image: Image.Image, parts=None) -> Image.Image:
    ops = operations.parse(text, parts)
    assets: dict = {}
    settings = pipeline_settings()
    from imgopt.imaging.other_images import decode_other

    operations.prepare(ops, assets, lambda data, part: decode_other(data, part, settings, []))
    return operations.apply(image, ops, assets)


# --- GD, transcribed ---------------------------------------------------------------------------------------


def gd_convolution(image: Image.Image, kernel, divisor: float, offset: float) -> Image.Image:
    """libgd's gdImageConvolution, pixel by pixel, in single precision: edge pixels repeated past the edge,
    rows of the matrix outer, columns inner, clamped then truncated; the centre's alpha kept."""
    src = image.load()
    width, height = image.size
    out = image.copy()
    dst = out.load()
    k = [[F32(value) for value in row] for row in kernel]
    for y in range(height):
        for x in range(width):
            sums = [F32(0), F32(0), F32(0)]
            for j in range(3):
                yv = min(max(y - 1 + j, 0), height - 1)
                for i in range(3):
                    pixel = src[min(max(x - 1 + i, 0), width - 1), yv]
                    for c in range(3):
                        sums[c] = F32(sums[c] + F32(F32(pixel[c]) * k[j][i]))
            values = []
            for c in range(3):
                value = F32(F32(sums[c] / F32(divisor)) + F32(offset))
                values.append(int(min(F32(255), max(F32(0), value))))
            dst[x, y] = (*values, *src[x, y][3:])
    return out


def gd_per_pixel(image: Image.Image, change) -> Image.Image:
    out = image.copy()
    pixels = out.load()
    for y in range(out.height):
        for x in range(out.width):
            r, g, b, *alpha = pixels[x, y]
            pixels[x, y] = (*change(r, g, b), *alpha)
    return out


def clamp(value):
    return 255 if value > 255 else max(value, 0)


def gd_brightness(level):
    added = php_round(level * 2.55)  # spatie/image: round($brightness * 2.55)
    return lambda r, g, b: tuple(clamp(v + added) for v in (r, g, b))


def gd_contrast(level):
    contrast = (100.0 - (-level)) / 100.0  # spatie/image passes -level; gdImageContrast
    contrast = contrast * contrast

    def change(r, g, b):
        out = []
        for value in (r, g, b):
            f = value / 255.0
            f = ((f - 0.5) * contrast + 0.5) * 255.0
            f = 255.0 if f > 255.0 else (0.0 if f < 0.0 else f)
            out.append(int(f))
        return tuple(out)

    return change


def gd_grey(r, g, b):
    value = int(0.299 * r + 0.587 * g + 0.114 * b)
    return value, value, value


def gd_colorize(red, green, blue):
    added = [php_round(level * 2.55) for level in (red, green, blue)]
    return lambda r, g, b: tuple(clamp(v + a) for v, a in zip((r, g, b), added, strict=True))


def gd_gamma(gamma):
    # PHP 8.2 imagegammacorrect(im, 1, gamma): (int)((pow(v / 255.0, input / output) * 255) + .5)
    return lambda r, g, b: tuple(int(math.pow(v / 255.0, 1.0 / gamma) * 255 + 0.5) for v in (r, g, b))


def gd_pixelate(image: Image.Image, size: int) -> Image.Image:
    """libgd's gdImagePixelate, GD_PIXELATE_AVERAGE."""
    out = image.copy()
    src, dst = image.load(), out.load()
    width, height = image.size
    for y in range(0, height, size):
        for x in range(0, width, size):
            block = [
                src[x + cx, y + cy]
                for cy in range(size)
                for cx in range(size)
                if x + cx < width and y + cy < height
            ]
            mean = tuple(sum(pixel[c] for pixel in block) // len(block) for c in range(len(block[0])))
            for cy in range(size):
                for cx in range(size):
                    if x + cx < width and y + cy < height:
                        dst[x + cx, y + cy] = mean
    return out


def gd_rectangle_pixels(size: tuple[int, int], corners: tuple[int, int, int, int], thick: int) -> set:
    """The pixels libgd's gdImageRectangle sets (within the image), its loops as written."""
    (width, height), (x1, y1, x2, y2) = size, corners
    pixels = set()

    def put(x, y):
        if 0 <= x < width and 0 <= y < height:
            pixels.add((x, y))

    if x1 == x2 and y1 == y2 and thick == 1:
        put(x1, y1)
        return pixels
    if thick > 1:
        half = thick >> 1
        x1ul, y1ul, x2lr, y2lr = x1 - half, y1 - half, x2 + half, y2 + half
        cy = y1ul + thick
        while cy > y1ul:
            cy -= 1
            for cx in range(x1ul, x2lr + 1):
                put(cx, cy)
        cy = y2lr - thick
        while cy < y2lr:
            cy += 1
            for cx in range(x1ul, x2lr + 1):
                put(cx, cy)
        cy = y1ul + thick - 1
        while cy < y2lr - thick:
            cy += 1
            for cx in range(x1ul, x1ul + thick + 1):
                put(cx, cy)
        cy = y1ul + thick - 1
        while cy < y2lr - thick:
            cy += 1
            for cx in range(x2lr - thick, x2lr + 1):
                put(cx, cy)
        return pixels

    def line(ax, ay, bx, by):  # horizontal or vertical, clipped, one pixel thick
        for x in range(min(ax, bx), max(ax, bx) + 1):
            for y in range(min(ay, by), max(ay, by) + 1):
                put(x, y)

    if x1 == x2 or y1 == y2:
        line(x1, y1, x2, y2)
    else:
        line(x1, y1, x2, y1)
        line(x1, y2, x2, y2)
        line(x1, y1 + 1, x1, y2 - 1)
        line(x2, y1 + 1, x2, y2 - 1)
    return pixels


def assert_same(ours: Image.Image, theirs: Image.Image, tolerance: int = 0) -> None:
    assert ours.size == theirs.size
    a = np.asarray(ours.convert("RGBA")).astype(int)
    b = np.asarray(theirs.convert("RGBA")).astype(int)
    assert np.abs(a - b).max() <= tolerance, np.argwhere(np.abs(a - b) > tolerance)[:5]


# --- each operation against GD ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, 1, 5, 9.5, 10, 25, 100])
def test_sharpen_is_gds_convolution_with_spaties_matrix(amount):
    image = made()
    assert_same(run(f"sharpen({amount})", image), gd_convolution(image, matrix(amount), 1.0, 0.0))


def test_sharpen_10s_matrix_is_the_one_spatie_builds():
    flat = [value for row in matrix(10) for value in row]
    assert flat == pytest.approx([-0.1, -0.25, -0.1, -0.25, 2.4, -0.25, -0.1, -0.25, -0.1])
    assert matrix(5)[0][0] == 0  # corners only from 10 up


@pytest.mark.parametrize("amount", [0, 1, 3])
def test_blur_is_gds_gaussian_that_many_times(amount):
    image = expected = made()
    for _ in range(amount):
        expected = gd_convolution(expected, [[1, 2, 1], [2, 4, 2], [1, 2, 1]], 16.0, 0.0)
    assert_same(run(f"blur({amount})", image), expected)


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("greyscale", gd_grey),
        ("brightness(37)", gd_brightness(37)),
        ("brightness(-100)", gd_brightness(-100)),
        ("contrast(10)", gd_contrast(10)),
        ("contrast(-35.5)", gd_contrast(-35.5)),
        ("gamma(2)", gd_gamma(2)),
        ("gamma(0.45)", gd_gamma(0.45)),
        ("colorize(38, 25, 10)", gd_colorize(38, 25, 10)),
        ("colorize(-100, 0, 99)", gd_colorize(-100, 0, 99)),
    ],
)
def test_point_filters_are_gds_formulas_and_keep_alpha(text, change):
    image = made()
    assert_same(run(text, image), gd_per_pixel(image, change))


def test_sepia_is_spaties_chain_of_gd_filters():
    image = made()
    expected = image
    for change in (gd_grey, gd_contrast(5), gd_colorize(38, 25, 10), gd_contrast(5)):
        expected = gd_per_pixel(expected, change)
    assert_same(run("sepia", image), expected)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 50])
def test_pixelate_is_gds_block_average(size):
    image = made((11, 7))
    assert_same(run(f"pixelate({size})", image), gd_pixelate(image, size) if size > 1 else image)


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("flip(horizontal)", Image.Transpose.FLIP_LEFT_RIGHT),
        ("flip(vertical)", Image.Transpose.FLIP_TOP_BOTTOM),
        ("flip(both)", Image.Transpose.ROTATE_180),
        ("orientation(90)", Image.Transpose.ROTATE_270),  # imagerotate(-90): a clockwise quarter turn
        ("orientation(180)", Image.Transpose.ROTATE_180),
        ("orientation(270)", Image.Transpose.ROTATE_90),
        ("orientation(-90)", Image.Transpose.ROTATE_90),
    ],
)
def test_flips_and_turns_move_every_pixel_where_gd_does(text, method):
    image = made()
    assert_same(run(text, image), image.transpose(method))


@pytest.mark.parametrize("width", [0, 1, 2, 3, 5, 8])
@pytest.mark.parametrize("size", [(9, 7), (20, 13)])
def test_an_overlay_border_sets_the_pixels_gds_rectangle_sets(width, size):
    x1 = y1 = php_round(width / 2)
    x2, y2 = php_round(size[0] - width / 2), php_round(size[1] - width / 2)
    expected = gd_rectangle_pixels(size, (x1, y1, x2, y2), width)
    ours = set()
    for left, top, right, bottom in overlay_rects(*size, width):
        ours |= {
            (x, y)
            for x in range(max(0, left), min(size[0] - 1, right) + 1)
            for y in range(max(0, top), min(size[1] - 1, bottom) + 1)
        }
    assert ours == expected
    image = made(size)
    bordered = run(f"border({width}, overlay, #ff8000)", image)
    painted = {
        (x, y)
        for y in range(size[1])
        for x in range(size[0])
        if bordered.getpixel((x, y)) == (255, 128, 0, 255)
    }
    assert expected <= painted


def test_a_border_of_width_0_paints_the_top_row_and_left_column_as_gd_does():
    bordered = run("border(0, overlay, #ffffff)", Image.new("RGB", (6, 4), (10, 20, 30)))
    rows = [[bordered.getpixel((x, y)) == (255, 255, 255) for x in range(6)] for y in range(4)]
    assert rows == [[True] * 6] + [[True] + [False] * 5] * 3


def test_an_expanding_border_frames_the_image_and_keeps_its_transparency():
    image = made((5, 4))
    bordered = run("border(3, expand, #102030)", image)
    assert bordered.size == (11, 10)
    assert bordered.getpixel((0, 0)) == (16, 32, 48, 255)
    assert_same(bordered.crop((3, 3, 8, 7)), image)


def test_a_shrinking_border_keeps_the_size_and_centres_the_image_made_smaller():
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    bordered = run("border(5, shrink, #00ff00)", image)
    assert bordered.size == (40, 30)
    # Size::resize(30, 20, keep ratio) is 26x20 (height first: 30x23, then 26x20, which fits); centred on the
    # 40x30 canvas at (20 - 13, 15 - 10).
    assert bordered.getpixel((6, 15)) == (0, 255, 0)
    assert bordered.getpixel((7, 5)) == (200, 10, 10)
    assert bordered.getpixel((32, 24)) == (200, 10, 10)
    assert bordered.getpixel((33, 15)) == (0, 255, 0)
    assert bordered.getpixel((20, 25)) == (0, 255, 0)


def gd_insert(frame: Image.Image, mark: Image.Image, at, pct: int) -> Image.Image:
    """GdDriver::insert on an opaque frame: the watermark blended onto its rectangle with GD's 7-bit alpha
    (gdAlphaBlend), then imagecopymerge at pct percent."""
    out = frame.copy()
    dst, src = out.load(), mark.load()
    for y in range(mark.height):
        for x in range(mark.width):
            fx, fy = at[0] + x, at[1] + y
            if not (0 <= fx < frame.width and 0 <= fy < frame.height):
                continue
            under = dst[fx, fy][:3]
            r, g, b, a8 = src[x, y]
            a7 = 127 - (a8 >> 1)
            if a7 == 0:
                cut = (r, g, b)
            elif a7 == 127:
                cut = under
            else:
                weight = 127 - a7
                cut = tuple((s * weight + d * a7) // 127 for s, d in zip((r, g, b), under, strict=True))
            merged = tuple(
                int(c * (pct / 100.0) + d * ((100 - pct) / 100.0)) for c, d in zip(cut, under, strict=True)
            )
            dst[fx, fy] = merged
    return out


@pytest.mark.parametrize(
    ("arguments", "at"),
    [
        ("", (40 - 10, 30 - 6)),  # bottom-right, no padding
        ("position=top-left, padding_x=3, padding_y=2", (3, 2)),
        ("position=top, padding_x=3, padding_y=2", (20 - 5, 2)),  # the padding only moves it down
        ("position=center, padding_x=4, padding_y=1", (20 + 4 - 5, 15 + 1 - 3)),
        ("position=bottom-left, padding_x=10, padding_y=10, padding_unit=percent", (4, 30 - 3 - 6)),
    ],
)
@pytest.mark.parametrize("alpha", [100, 60])
def test_a_watermark_goes_where_spatie_puts_it_and_merges_as_gd_merges(arguments, at, alpha):
    frame = made((40, 30), "RGB", seed=5)
    mark = made((10, 6), "RGBA", seed=7)
    text = f"watermark({arguments}{', ' if arguments else ''}alpha={alpha})"
    ours = run(text, frame, {"watermark": images.encode(mark, "PNG")})
    assert_same(ours, gd_insert(frame, mark, at, alpha))


def test_a_watermark_sized_in_percent_takes_spaties_sizes():
    frame = Image.new("RGB", (200, 100), (0, 0, 0))
    mark = images.encode(Image.new("RGBA", (40, 20), (255, 255, 255, 255)), "PNG")
    ours = run("watermark(position=top-left, width=50, width_unit=percent)", frame, {"watermark": mark})
    # width(100): height round(100 / 2) = 50
    assert ours.getpixel((99, 49)) == (255, 255, 255) and ours.getpixel((100, 50)) == (0, 0, 0)
    # The height is measured in width_unit, as spatie/image 3.9 does: 50 percent of 100 = 50 px.
    ours = run("watermark(position=top-left, height=50, width_unit=percent)", frame, {"watermark": mark})
    assert ours.getpixel((99, 49)) == (255, 255, 255) and ours.getpixel((100, 0)) == (0, 0, 0)


def test_a_watermark_keeps_a_transparent_frames_transparency_where_gd_paints_black():
    frame = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    mark = images.encode(Image.new("RGBA", (4, 4), (255, 0, 0, 255)), "PNG")
    ours = run("watermark(position=top-left, alpha=50)", frame, {"watermark": mark})
    assert ours.getpixel((10, 10)) == (0, 0, 0, 0)
    assert ours.getpixel((1, 1))[3] == 127 and ours.getpixel((1, 1))[0] == 255


# --- against PHP's own GD, where it is installed -----------------------------------------------------------

PHP = shutil.which("php")
GD_CALLS = {
    "sharpen(10)": f"imageconvolution($im, {json.dumps(matrix(10))}, 1, 0);",
    "blur(2)": "imagefilter($im, IMG_FILTER_GAUSSIAN_BLUR); imagefilter($im, IMG_FILTER_GAUSSIAN_BLUR);",
    "greyscale": "imagefilter($im, IMG_FILTER_GRAYSCALE);",
    "sepia": "imagefilter($im, IMG_FILTER_GRAYSCALE); imagefilter($im, IMG_FILTER_CONTRAST, -5);"
    " imagefilter($im, IMG_FILTER_COLORIZE, 97, 64, 26); imagefilter($im, IMG_FILTER_CONTRAST, -5);",
    "brightness(-30)": "imagefilter($im, IMG_FILTER_BRIGHTNESS, round(-30 * 2.55));",
    "contrast(20)": "imagefilter($im, IMG_FILTER_CONTRAST, -20);",
    "gamma(1.8)": "imagegammacorrect($im, 1, 1.8);",
    "colorize(10, -20, 30)": "imagefilter($im, IMG_FILTER_COLORIZE, round(25.5), round(-51), round(76.5));",
    "pixelate(4)": "imagefilter($im, IMG_FILTER_PIXELATE, 4, true);",
    "flip(vertical)": "imageflip($im, IMG_FLIP_VERTICAL);",
    "orientation(90)": "$im = imagerotate($im, -90, 0);",
    "border(0, overlay, #ffffff)": "imagealphablending($im, true); imagesetthickness($im, 0);"
    " imagerectangle($im, 0, 0, imagesx($im), imagesy($im), 0xFFFFFF);",
    "border(4, overlay, #ff0000)": "imagealphablending($im, true); imagesetthickness($im, 4);"
    " imagerectangle($im, 2, 2, imagesx($im) - 2, imagesy($im) - 2, 0xFF0000);",
    # resizeCanvas(6, 6, Center, relative, color): a canvas filled with the colour, the image copied in.
    "border(3, expand, #204060)": "$c = imagecreatetruecolor(imagesx($im) + 6, imagesy($im) + 6);"
    " imagefill($c, 0, 0, 0x204060); imagecopy($c, $im, 3, 3, 0, 0, imagesx($im), imagesy($im)); $im = $c;",
    # GdDriver::insert at bottom-right with padding 2 and 60%: the cut, the watermark on it, the merge.
    "watermark(padding_x=2, padding_y=2, alpha=60)": "$x = imagesx($im) - 2 - imagesx($mark);"
    " $y = imagesy($im) - 2 - imagesy($mark); imagealphablending($im, true);"
    " $cut = imagecreatetruecolor(imagesx($mark), imagesy($mark));"
    " imagecopy($cut, $im, 0, 0, $x, $y, imagesx($mark), imagesy($mark));"
    " imagecopy($cut, $mark, 0, 0, 0, 0, imagesx($mark), imagesy($mark));"
    " imagecopymerge($im, $cut, $x, $y, 0, 0, imagesx($mark), imagesy($mark), 60);",
}
MARK = made((7, 5), "RGBA", seed=13)


def php_gd(image: Image.Image, code: str) -> Image.Image:
    script = (
        "$im = imagecreatefromstring(base64_decode($argv[1])); imagealphablending($im, false);"
        " imagesavealpha($im, true); $mark = imagecreatefromstring(base64_decode($argv[2])); "
        + code
        + " ob_start(); imagepng($im); echo base64_encode(ob_get_clean());"
    )
    encoded = [base64.b64encode(images.encode(picture, "PNG")).decode() for picture in (image, MARK)]
    completed = subprocess.run(
        [PHP, "-r", script, *encoded],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return Image.open(io.BytesIO(base64.b64decode(completed.stdout))).convert("RGB")


@pytest.mark.skipif(
    PHP is None
    or subprocess.run([PHP, "-r", "exit(function_exists('imagefilter') ? 0 : 1);"], check=False).returncode,
    reason="PHP with GD is not installed (apt-get install php-gd; .ci/run does)",
)
@pytest.mark.parametrize("text", sorted(GD_CALLS))
def test_each_operation_gives_what_phps_own_gd_gives(text):
    image = made((24, 17), "RGB", seed=11)
    assert_same(run(text, image, {"watermark": images.encode(MARK, "PNG")}), php_gd(image, GD_CALLS[text]))


# --- the parser ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("sharpen(10)", (("sharpen", (("amount", 10.0),)),)),
        ("sharpen(amount=2.5) : greyscale", (("sharpen", (("amount", 2.5),)), ("greyscale", ()))),
        ("GREYSCALE():sepia", (("greyscale", ()), ("sepia", ()))),
        ("border(2)", (("border", (("width", 2), ("type", "overlay"), ("color", (0, 0, 0)))),)),
        (
            "border(2, EXPAND, #fff)",
            (("border", (("width", 2), ("type", "expand"), ("color", (255, 255, 255)))),),
        ),
        (
            "border(width=1, color=#102030)",
            (("border", (("width", 1), ("type", "overlay"), ("color", (16, 32, 48)))),),
        ),
        ("flip(both)", (("flip", (("direction", "both"),)),)),
        ("orientation(-90)", (("orientation", (("degrees", "-90"),)),)),
        ("pixelate", (("pixelate", (("size", 50),)),)),
    ],
)
def test_operations_are_read_in_order_with_their_defaults(text, expected):
    assert tuple((op.name, op.values) for op in operations.parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("sharpen", "invalid_sharpen"),  # amount is required
        ("sharpen(101)", "invalid_sharpen"),
        ("sharpen(nan)", "invalid_sharpen"),
        ("blur(2.5)", "invalid_blur"),
        ("brightness(-101)", "invalid_brightness"),
        ("contrast(x)", "invalid_contrast"),
        ("gamma(0)", "invalid_gamma"),
        ("gamma(10)", "invalid_gamma"),
        ("colorize(1, 2)", "invalid_colorize"),
        ("pixelate(101)", "invalid_pixelate"),
        ("flip(sideways)", "invalid_flip"),
        ("orientation(45)", "invalid_orientation"),
        ("border(-1)", "invalid_border"),
        ("border(2, inside)", "invalid_border"),
        ("border(2, overlay, red)", "invalid_border"),
        ("border(2, width=3)", "invalid_border"),
        ("sharpen(amount=1, 2)", "invalid_sharpen"),
        ("greyscale(1)", "invalid_greyscale"),
        ("sharpen(1, strength=2)", "invalid_sharpen"),
        ("watermark", "invalid_watermark"),  # no watermark part
        ("text(hello)", "invalid_operations"),
        ("unheard_of", "invalid_operations"),
        ("sharpen(10) greyscale", "invalid_operations"),
        ("sharpen(10", "invalid_operations"),
        (":".join(["greyscale"] * 17), "invalid_operations"),
        ("\x00", "invalid_operations"),
    ],
)
def test_a_bad_operation_is_refused_with_the_code_that_names_it(text, code):
    with pytest.raises(InvalidOption) as refused:
        operations.parse(text)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "arguments",
    ["padding_x=101, padding_unit=percent", "width=150, width_unit=percent", "alpha=101", "position=nowhere"],
)
def test_a_watermarks_bad_values_are_refused(arguments):
    with pytest.raises(InvalidOption) as refused:
        operations.parse(f"watermark({arguments})", {"watermark": images.png()})
    assert refused.value.code == "invalid_watermark"


# --- one declaration each ----------------------------------------------------------------------------------


def test_every_operation_is_declared_once_and_has_its_error_code():
    assert tuple(OPERATIONS) == OPERATION_NAMES


def test_docs_table_and_openapi_list_are_made_from_the_declarations():
    api = (ROOT / "docs" / "api.md").read_text()
    assert reference.markdown() in api, "docs/api.md's operations differ from the declarations: run make docs"
    openapi = (ROOT / "docs" / "openapi.yaml").read_text()
    assert reference.yaml_lines() in openapi, "docs/openapi.yaml's x-operations differ: run make docs"


# --- in the pipeline and live -------------------------------------------------------------------------------

SETTINGS = pipeline_settings()


def test_renditions_that_share_a_resize_but_differ_in_operations_each_get_their_own():
    data = images.photo((1600, 1200))
    requests_ = [
        ("plain", ConvertOptions(width=400, format="webp")),
        ("sharp", ConvertOptions(width=400, format="webp", operations=operations.parse("sharpen(10)"))),
        ("sharp-avif", ConvertOptions(width=400, format="avif", operations=operations.parse("sharpen(10)"))),
        (
            "framed",
            ConvertOptions(width=400, format="png", operations=operations.parse("border(4, expand, #fff)")),
        ),
    ]
    result = render_set(data, requests_, SETTINGS, describe=False)
    assert len(result.decoded_sizes) == 1  # one decode, one resize: the 400 px geometry
    by_name = {rendition.name: rendition for rendition in result.renditions}
    assert (by_name["framed"].width, by_name["framed"].height) == (408, 308)
    plain = images.open_bytes(by_name["plain"].data).convert("RGB")
    sharp = images.open_bytes(by_name["sharp"].data).convert("RGB")
    assert plain.size == sharp.size and images.open_bytes(by_name["plain"].data).tobytes() != sharp.tobytes()
    alone = render_set(data, [requests_[1]], SETTINGS, describe=False).rendition
    assert alone.data == by_name["sharp"].data


def test_an_animation_gets_its_operations_on_every_frame():
    data = (images.FILES / "animated-loop-3.gif").read_bytes()
    options = ConvertOptions(format="png", operations=operations.parse("greyscale:flip(horizontal)"))
    rendition = render_set(data, [("g", options)], SETTINGS, describe=False).rendition
    assert rendition.frames > 1
    with Image.open(io.BytesIO(rendition.data)) as animation:
        for index in range(animation.n_frames):
            animation.seek(index)
            frame = np.asarray(animation.convert("RGB")).astype(int)
            assert (frame[:, :, 0] == frame[:, :, 1]).all() and (frame[:, :, 1] == frame[:, :, 2]).all()


@pytest.mark.live
def test_variants_make_renditions_that_share_a_resize_and_differ_in_operations(live_server):
    mark = images.encode(Image.new("RGBA", (60, 30), (255, 0, 0, 200)), "PNG")
    variants = [
        {"name": "plain", "width": 320},
        {"name": "card", "width": 320, "operations": "sharpen(10)"},
        {
            "name": "marked",
            "width": 320,
            "format": "png",
            "operations": "watermark(position=top-left, alpha=100)",
        },
        {"name": "grey-gif", "width": 64, "format": "webp", "operations": "greyscale"},
    ]
    response = requests.post(
        f"{live_server.url}/variants",
        headers=live_server.headers(),
        files={"file": ("a", images.photo((1600, 1200))), "watermark": ("w", mark)},
        data={"variants": json.dumps(variants)},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    made_ = {item["name"]: item for item in response.json()["variants"]}
    marked = Image.open(io.BytesIO(base64.b64decode(made_["marked"]["data"]))).convert("RGB")
    assert marked.getpixel((5, 5))[0] > 200 and marked.getpixel((5, 5))[1] < 60
    assert made_["card"]["bytes"] != made_["plain"]["bytes"]


@pytest.mark.live
@pytest.mark.parametrize(
    ("fields", "code", "status"),
    [
        ({"operations": "sharpen(1000)"}, "invalid_sharpen", 400),
        ({"operations": "watermark"}, "invalid_watermark", 400),
        ({"operations": "blurry"}, "invalid_operations", 400),
    ],
)
def test_convert_refuses_bad_operations_with_their_codes(live_server, fields, code, status):
    response = requests.post(
        f"{live_server.url}/convert",
        headers=live_server.headers(),
        files={"file": ("a", images.jpeg())},
        data=fields,
        timeout=30,
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


@pytest.mark.live
@pytest.mark.parametrize(
    ("watermark", "code"), [(b"not an image", "unsupported_format"), (None, "undecodable_image")]
)
def test_a_watermark_that_is_not_an_image_gets_the_errors_an_upload_gets(live_server, watermark, code):
    data = watermark if watermark is not None else images.png((300, 300))[:400]
    response = requests.post(
        f"{live_server.url}/convert",
        headers=live_server.headers(),
        files={"file": ("a", images.jpeg()), "watermark": ("w", data)},
        data={"operations": "watermark"},
        timeout=30,
    )
    assert response.json()["error"]["code"] == code
