"""Framing: crop rectangles, gravity, focal points and smart crop, on images whose right answer is known."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat

from imgopt.errors import ImageTooLarge, InvalidOption
from imgopt.http.forms import parse_options
from imgopt.imaging import geometry, smart_crop
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from testing import images
from testing.images import photo
from testing.settings import pipeline_settings

SETTINGS = pipeline_settings()
RED, GREEN, BLUE = (220, 0, 0), (0, 200, 0), (0, 0, 220)


def run(data: bytes, **fields: object):
    """Convert with form fields, as /convert receives them."""
    return run_set(data, **fields).rendition


def run_set(data: bytes, **fields: object):
    """The whole result of a conversion with form fields: the rendition, the source's facts and notes."""
    form = {
        key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in fields.items()
    }
    return convert(data, parse_options(form, max_dimension=4096), SETTINGS)


def decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def bands(size: tuple[int, int], vertical: bool) -> bytes:
    """Three bands, red / green / blue: left to right (vertical bands) or top to bottom."""
    image = Image.new("RGB", size, GREEN)
    width, height = size
    if vertical:
        image.paste(RED, (0, 0, width // 3, height))
        image.paste(BLUE, (2 * width // 3, 0, width, height))
    else:
        image.paste(RED, (0, 0, width, height // 3))
        image.paste(BLUE, (0, 2 * height // 3, width, height))
    return images.encode(image, "PNG")


def centre_colour(data: bytes) -> tuple[int, ...]:
    image = decode(data)
    return image.getpixel((image.width // 2, image.height // 2))


def close(colour: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour[:3], expected, strict=True))


# --- geometry: the arithmetic, as tables ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "options", "resized", "crop_box"),
    [
        ((400, 200), {"crop": (10, 20, 100, 50)}, (100, 50), (10, 20, 110, 70)),
        ((400, 200), {"crop": (10, 20, 100, 50), "width": 50}, (50, 25), (10, 20, 110, 70)),
        ((400, 200), {"crop": (0, 0, 100, 50), "width": 400}, (100, 50), (0, 0, 100, 50)),
        ((400, 200), {"crop": (0, 0, 100, 50), "width": 400, "enlarge": True}, (400, 200), (0, 0, 100, 50)),
        ((400, 200), {"width": 100, "height": 100, "fit": "cover"}, (100, 100), (100, 0, 300, 200)),
        (
            (400, 200),
            {"width": 100, "height": 100, "fit": "cover", "gravity": "west"},
            (100, 100),
            (0, 0, 200, 200),
        ),
        (
            (400, 200),
            {"width": 100, "height": 100, "fit": "cover", "gravity": "east"},
            (100, 100),
            (200, 0, 400, 200),
        ),
        (
            (400, 200),
            {"width": 100, "height": 100, "fit": "cover", "gravity": "north"},
            (100, 100),
            (100, 0, 300, 200),
        ),
        (
            (200, 400),
            {"width": 100, "height": 100, "fit": "cover", "gravity": "north"},
            (100, 100),
            (0, 0, 200, 200),
        ),
        (
            (200, 400),
            {"width": 100, "height": 100, "fit": "cover", "gravity": "southwest"},
            (100, 100),
            (0, 200, 200, 400),
        ),
        (
            (400, 200),
            {"width": 100, "height": 100, "fit": "cover", "focus": (0.75, 0.5)},
            (100, 100),
            (200, 0, 400, 200),
        ),
        (
            (400, 200),
            {"width": 100, "height": 100, "fit": "cover", "focus": (0.6, 0.5)},
            (100, 100),
            (140, 0, 340, 200),
        ),
        (
            (400, 200),
            {"width": 100, "height": 100, "fit": "cover", "focus": (0.0, 1.0)},
            (100, 100),
            (0, 0, 200, 200),
        ),
        (
            (400, 200),
            {"width": 50, "height": 50, "fit": "cover", "crop": (100, 0, 300, 100), "gravity": "east"},
            (50, 50),
            (300, 0, 400, 100),
        ),
        (
            (400, 200),
            {"width": 50, "height": 50, "fit": "cover", "crop": (100, 0, 300, 100), "focus": (0.0, 0.5)},
            (50, 50),
            (100, 0, 200, 100),
        ),
        ((400, 200), {"width": 100, "height": 50, "fit": "fill", "gravity": "east"}, (100, 50), None),
    ],
)
def test_crop_gravity_and_focus_place_the_window(source, options, resized, crop_box):
    plan = geometry.plan(source, ConvertOptions(**options))
    assert plan.resized == resized
    assert plan.crop_box == (None if crop_box is None else tuple(float(edge) for edge in crop_box))


def test_focus_overrides_gravity():
    options = ConvertOptions(width=100, height=100, fit="cover", gravity="west", focus=(1.0, 0.5))
    assert geometry.plan((400, 200), options).crop_box == (200.0, 0.0, 400.0, 200.0)


def test_smart_starts_centred_and_is_moved_by_place():
    plan = geometry.plan((400, 200), ConvertOptions(width=100, height=100, fit="cover", gravity="smart"))
    assert plan.crop_box == (100.0, 0.0, 300.0, 200.0)
    assert plan.smart_region == (0.0, 0.0, 400.0, 200.0)
    assert plan.window_fraction == (0.5, 1.0)
    assert geometry.place(plan, (0.1, 0.5)).crop_box == (0.0, 0.0, 200.0, 200.0)
    assert geometry.place(plan, (0.7, 0.5)).crop_box == (180.0, 0.0, 380.0, 200.0)
    assert geometry.place(plan, None) == plan


def test_the_draft_box_covers_the_crop_at_the_output_scale():
    # A 1000-wide cut of a 4000-wide image to 500 px is a scale of 1/2: the whole image at that scale is 2000.
    plan = geometry.plan((4000, 3000), ConvertOptions(crop=(1000, 1000, 1000, 1000), width=500))
    assert plan.scaled_source == (2000, 1500)


@pytest.mark.parametrize(
    ("crop", "size"),
    [((0, 0, 401, 10), (400, 200)), ((399, 0, 2, 2), (400, 200)), ((0, 150, 10, 51), (400, 200))],
)
def test_a_crop_outside_the_image_is_invalid_crop_naming_the_upright_size(crop, size):
    with pytest.raises(InvalidOption) as caught:
        geometry.plan(size, ConvertOptions(crop=crop))
    assert caught.value.code == "invalid_crop"
    assert "400x200 upright" in caught.value.message


@pytest.mark.parametrize(
    ("orientation", "source", "decoded", "scale", "offset"),
    [
        (1, (4001, 3003), (1001, 751), (0.25, 0.25), (0.0, 0.0)),
        (3, (4001, 3003), (1001, 751), (0.25, 0.25), (3.0, 1.0)),
        (6, (3003, 4001), (751, 1001), (0.25, 0.25), (1.0, 0.0)),
        (8, (3003, 4001), (751, 1001), (0.25, 0.25), (0.0, 3.0)),
        (1, (400, 300), (400, 300), (1.0, 1.0), (0.0, 0.0)),
    ],
)
def test_the_decode_grid_accounts_for_partial_blocks_on_reversed_axes(
    orientation, source, decoded, scale, offset
):
    grid = geometry.grid(source, decoded, orientation)
    assert (grid.scale, grid.offset) == (scale, offset)


# --- pixels: gravity, focus and smart on images whose answer is known -----------------------------------


@pytest.mark.parametrize(
    ("gravity", "vertical", "expected"),
    [
        ("center", True, GREEN),
        ("west", True, RED),
        ("east", True, BLUE),
        ("northwest", True, RED),
        ("southeast", True, BLUE),
        ("north", True, GREEN),
        ("center", False, GREEN),
        ("north", False, RED),
        ("south", False, BLUE),
        ("northeast", False, RED),
        ("southwest", False, BLUE),
        ("east", False, GREEN),
    ],
)
def test_gravity_keeps_the_band_it_names(gravity, vertical, expected):
    source = bands((900, 300) if vertical else (300, 900), vertical)
    result = run(source, format="png", width=60, height=60, fit="cover", gravity=gravity)
    assert (result.width, result.height) == (60, 60)
    output = decode(result.data)
    assert all(close(output.getpixel((x, y)), expected) for x in (5, 30, 54) for y in (5, 30, 54))


def dot_image(size=(800, 400), dot=(600, 120)) -> bytes:
    image = Image.new("RGB", size, (128, 128, 128))
    ImageDraw.Draw(image).ellipse((dot[0] - 10, dot[1] - 10, dot[0] + 10, dot[1] + 10), fill=RED)
    return images.encode(image, "PNG")


def red_centroid(image: Image.Image) -> tuple[float, float]:
    mask = [
        (x, y) for y in range(image.height) for x in range(image.width) if image.getpixel((x, y))[0] > 180
    ]
    return sum(x for x, _ in mask) / len(mask), sum(y for _, y in mask) / len(mask)


def test_focus_keeps_the_point_at_the_centre_of_the_output():
    result = run(dot_image(), format="png", width=100, height=100, fit="cover", focus="0.75,0.3")
    x, y = red_centroid(decode(result.data))
    assert abs(x - 50) <= 2  # the window (400 wide) is centred on x = 600, which the edges allow
    assert abs(y - 30) <= 2  # the window spans the full height, so the dot stays at 30%


def test_focus_near_an_edge_goes_as_near_the_centre_as_the_edges_allow():
    result = run(
        dot_image(dot=(780, 200)), format="png", width=100, height=100, fit="cover", focus="0.975,0.5"
    )
    x, _y = red_centroid(decode(result.data))
    assert abs(x - 95) <= 2  # the window is pushed against the right edge


def test_focus_inside_a_crop_is_a_point_of_the_crop():
    options = {
        "format": "png",
        "width": 50,
        "height": 50,
        "fit": "cover",
        "crop": "400,0,400,200",
        "focus": "0.5,0.6",
    }
    x, y = red_centroid(decode(run(dot_image(), **options).data))
    assert abs(x - 25) <= 2 and abs(y - 30) <= 2


def busy_subject(size=(900, 300), at=(700, 150)) -> bytes:
    """A plain background with a busy, colourful subject off-centre."""
    image = Image.new("RGB", size, (200, 200, 205))
    noise = Image.merge("RGB", [Image.effect_noise((160, 160), 90) for _ in range(3)])
    image.paste(noise, (at[0] - 80, at[1] - 80))
    return images.encode(image, "PNG")


def busyness(image: Image.Image) -> float:
    return sum(ImageStat.Stat(image).stddev) / 3


def test_smart_keeps_the_busy_subject_that_centre_cuts_away():
    smart = decode(
        run(busy_subject(), format="png", width=100, height=100, fit="cover", gravity="smart").data
    )
    centre = decode(run(busy_subject(), format="png", width=100, height=100, fit="cover").data)
    assert busyness(smart) > 30 > busyness(centre) + 20


def test_smart_on_a_flat_image_falls_back_to_the_centre():
    flat = images.encode(Image.new("RGB", (400, 200), (90, 120, 150)), "PNG")
    smart = run(flat, format="png", width=50, height=50, fit="cover", gravity="smart")
    assert smart.data == run(flat, format="png", width=50, height=50, fit="cover").data


def test_smart_is_deterministic():
    data = photo((1200, 500))
    outputs = {run(data, width=200, height=200, fit="cover", gravity="smart").data for _ in range(3)}
    assert len(outputs) == 1


def test_smart_never_fails_a_request(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("attention failed")

    monkeypatch.setattr(smart_crop, "interesting_point", broken)
    data = busy_subject()
    result = run_set(data, format="png", width=100, height=100, fit="cover", gravity="smart")
    assert result.rendition.data == run(data, format="png", width=100, height=100, fit="cover").data
    assert "smart_crop_fell_back_to_centre" in result.notes


def test_attention_points_at_the_subject():
    proxy = Image.new("RGB", (32, 32), (200, 200, 200))
    proxy.paste(Image.merge("RGB", [Image.effect_noise((6, 6), 100)] * 3), (24, 4))
    x, y = smart_crop.interesting_point(proxy, (0.5, 0.5))
    assert x > 0.6 and y < 0.4


# --- crops in upright coordinates, with draft decoding -----------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_crop_coordinates_are_upright_for_every_orientation(orientation):
    upright = images.marked((60, 40))  # red block top-left, blue block bottom-right
    data = stored(upright, orientation)
    top_left = decode(run(data, format="png", crop="0,0,30,20").data)
    bottom_right = decode(run(data, format="png", crop="30,20,30,20").data)
    assert top_left.size == bottom_right.size == (30, 20)
    assert close(top_left.getpixel((3, 3)), (255, 0, 0)) and close(
        top_left.getpixel((26, 16)), (128, 128, 128)
    )
    assert close(bottom_right.getpixel((26, 16)), (0, 0, 255))
    assert close(bottom_right.getpixel((3, 3)), (128, 128, 128))


INVERSE_ORIENTATION = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def stored(upright: Image.Image, orientation: int, quality: int = 95) -> bytes:
    """A JPEG whose EXIF orientation turns its stored pixels into ``upright``."""
    from imgopt.imaging.steps import apply_orientation

    exif = Image.Exif()
    exif[images.ORIENTATION] = orientation
    pixels = apply_orientation(upright, INVERSE_ORIENTATION[orientation])
    return images.encode(pixels, "JPEG", quality=quality, exif=exif.tobytes())


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_a_cropped_draft_decode_matches_a_full_decode_of_a_12_mp_jpeg(orientation):
    upright_size = (4001, 3003) if orientation < 5 else (3003, 4001)
    data = stored(Image.open(io.BytesIO(photo(upright_size))), orientation)
    crop = (301, 257, 1700, 1244) if orientation < 5 else (257, 301, 1244, 1700)
    whole = run_set(data, format="png", width=400, crop=",".join(map(str, crop)))
    assert max(whole.decoded_sizes[0]) <= (4001 + 1) // 2  # draft decoding stayed on (1/2 or smaller)
    result = whole.rendition
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    x, y, width, height = crop
    output = decode(result.data)
    reference = full.crop((x, y, x + width, y + height)).resize(output.size, Image.Resampling.LANCZOS)
    assert mean_difference(output, reference) < 2.0


def test_every_frame_of_an_animation_gets_the_same_crop():
    frames = []
    for left, right in ((RED, BLUE), ((250, 250, 0), (0, 250, 250))):
        frame = Image.new("RGB", (80, 40), left)
        frame.paste(right, (40, 0, 80, 40))
        frames.append(frame)
    data = images.encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[50, 50])
    result = run(data, format="webp", lossless=True, crop="40,0,40,40")
    assert result.frames == 2
    animation = Image.open(io.BytesIO(result.data))
    colours = []
    for index in range(2):
        animation.seek(index)
        colours.append(animation.convert("RGB").getpixel((20, 20)))
    assert close(colours[0], BLUE) and close(colours[1], (0, 250, 250))


def test_smart_chooses_once_for_every_frame():
    subject = Image.open(io.BytesIO(busy_subject((600, 200), (480, 100)))).convert("RGB")
    frames = [subject, subject.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    data = images.encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=[50, 50])
    result = run(data, format="webp", lossless=True, width=100, height=100, fit="cover", gravity="smart")
    animation = Image.open(io.BytesIO(result.data))
    busy = []
    for index in range(2):
        animation.seek(index)
        busy.append(busyness(animation.convert("RGB")))
    assert busy[0] > 30 and busy[1] < 10  # the first frame's window, kept for the flipped second frame


def test_the_encode_budget_counts_the_cropped_output():
    data = images.encode(Image.new("RGB", (2000, 2000), "red"), "PNG")
    settings = pipeline_settings(max_encode_seconds=0.1)
    with pytest.raises(ImageTooLarge):
        convert(data, ConvertOptions(format="avif", lossless=True), settings)
    assert (
        convert(
            data, ConvertOptions(format="avif", lossless=True, crop=(0, 0, 100, 100)), settings
        ).rendition.width
        == 100
    )


@pytest.mark.parametrize(
    ("background", "colour"), [("#ff0000", (255, 0, 0)), ("0f0", (0, 255, 0)), ("#0000FF", (0, 0, 255))]
)
def test_a_background_fills_the_transparency_and_leaves_none(background, colour):
    transparent = images.encode(Image.new("RGBA", (200, 100), (0, 0, 0, 0)), "PNG")
    output = images.open_bytes(run(transparent, width="100", format="png", background=background).data)
    assert output.mode == "RGB"
    assert output.getpixel((50, 25)) == colour


@pytest.mark.parametrize("output_format", ["webp", "png", "jpeg"])
def test_fit_contain_pads_with_the_background(output_format):
    opaque = images.encode(Image.new("RGB", (400, 200), (20, 20, 20)), "PNG")
    fields = {"width": "200", "height": "200", "fit": "contain", "format": output_format}
    output = images.open_bytes(run(opaque, background="#ffcc00", quality="95", **fields).data)
    assert output.size == (200, 200)
    red, green, blue = output.convert("RGB").getpixel((100, 10))  # the padding above the 200x100 image
    assert (abs(red - 255), abs(green - 204), blue) < (12, 12, 12)
    assert output.convert("RGB").getpixel((100, 100))[0] < 40


@pytest.mark.parametrize("value", ["red", "#12", "#1234567", "#ggg", "rgb(1,2,3)"])
def test_a_background_that_is_not_a_hex_colour_is_invalid_background(value):
    with pytest.raises(InvalidOption) as raised:
        parse_options({"background": value}, max_dimension=4096)
    assert raised.value.code == "invalid_background"
