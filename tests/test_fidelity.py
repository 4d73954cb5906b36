"""What comes out looks like what went in: orientation, colour, pixel modes, animation, fit, resampling.

Pixels are compared with tolerances against a reference computed here (ImageCms for colour), never golden
bytes. PNG output is used where a test isolates a step from lossy encoding.
"""

from __future__ import annotations

import io

import pillow_heif
import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat

from imgopt.errors import ImageTooLarge
from imgopt.imaging import geometry
from imgopt.imaging.colour import load_cmyk_profile, normalise_mode
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import PipelineSettings, convert
from testing import icc, images
from testing.settings import pipeline_settings

SETTINGS = pipeline_settings()
SRGB = ImageCms.createProfile("sRGB")


def run(data: bytes, settings: PipelineSettings = SETTINGS, **options: object):
    return convert(data, ConvertOptions(**options), settings).rendition


def decode(data: bytes) -> Image.Image:
    return images.open_bytes(data)


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0-255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / len(a.getbands())


def assert_upright_marks(image: Image.Image) -> None:
    """Red block top-left, blue block bottom-right, as images.marked draws them."""
    image = image.convert("RGB")
    red = image.getpixel((2, 2))
    blue = image.getpixel((image.width - 3, image.height - 3))
    assert red[0] > 180 and red[2] < 80, red
    assert blue[2] > 180 and blue[0] < 80, blue


# --- orientation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("width", [None, 30])
def test_every_exif_orientation_comes_out_upright(orientation, width):
    result = run(images.stored_jpeg(images.marked((60, 40)), orientation), width=width, format="png")
    output = decode(result.data)
    assert output.size == ((60, 40) if width is None else (30, 20))
    assert_upright_marks(output)


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_draft_decoding_stays_on_for_rotated_jpegs(orientation):
    data = images.stored_jpeg(images.marked((1600, 1200)), orientation)
    result = convert(data, ConvertOptions(width=200, format="png"), SETTINGS)
    # Upright 1600x1200 -> 200x150 needs a stored 150x200 box: libjpeg decodes at 1/8 scale.
    assert result.decoded_sizes == ((150, 200),)
    assert (result.rendition.width, result.rendition.height) == (200, 150)
    assert_upright_marks(decode(result.rendition.data))


@pytest.mark.parametrize(
    "exif",
    [
        b"Exif\x00\x00garbage that is not TIFF",
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03",  # truncated IFD
        b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x09\x00\x00\x00",  # 9
        b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",  # IFD offset past the end
    ],
    ids=["not-tiff", "truncated-ifd", "orientation-9", "bad-offset"],
)
def test_malformed_exif_counts_as_orientation_1(exif):
    upright = images.marked((60, 40))
    buffer = io.BytesIO()
    upright.save(buffer, "JPEG", quality=95)
    data = buffer.getvalue()
    segment = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    result = run(data[:2] + segment + data[2:], format="png")
    assert (result.width, result.height) == (60, 40)
    assert_upright_marks(decode(result.data))


def test_heic_is_decoded_and_oriented():
    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[images.ORIENTATION] = 6
    stored = images.marked((60, 40)).transpose(Image.Transpose.ROTATE_90)
    data = images.encode(stored, "HEIF", quality=95, exif=exif.tobytes())
    result = convert(data, ConvertOptions(format="png"), SETTINGS)
    assert result.source.format == "heif"
    assert (result.rendition.width, result.rendition.height) == (60, 40)
    assert_upright_marks(decode(result.rendition.data))


# --- colour ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "profile", [icc.DISPLAY_P3, icc.ADOBE_RGB, icc.PROPHOTO], ids=["display-p3", "adobe-rgb", "prophoto"]
)
@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_rgb_profiles_are_converted_to_srgb(profile, fmt):
    source = images.colourful()
    data = images.encode(
        source, fmt.upper(), icc_profile=profile, **({"quality": 98} if fmt == "jpeg" else {})
    )
    tagged = decode(data)
    reference = ImageCms.profileToProfile(tagged, ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB)
    output = decode(run(data, format="png").data)
    assert mean_difference(output, reference) <= 8
    assert mean_difference(tagged.convert("RGB"), reference) > 8, "the profile must matter for this test"
    assert "icc_profile" not in output.info


def test_grey_profile_is_converted_to_srgb():
    data = images.encode(images.gradient((64, 64), "L"), "PNG", icc_profile=icc.GREY_GAMMA_18)
    tagged = decode(data)
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc.GREY_GAMMA_18))
    reference = ImageCms.profileToProfile(tagged, profile, SRGB, outputMode="RGB")
    output = decode(run(data, format="png").data)
    assert mean_difference(output, reference) <= 8
    assert mean_difference(tagged.convert("RGB"), reference) > 8


def cmyk_reference(image: Image.Image, profile: bytes) -> Image.Image:
    return ImageCms.profileToProfile(
        image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB, outputMode="RGB"
    )


def test_untagged_cmyk_uses_the_standard_cmyk_profile():
    data = (images.FILES / "Channel_digital_image_CMYK_color_no_profile.jpg").read_bytes()
    source = decode(data)
    assert source.mode == "CMYK" and "icc_profile" not in source.info
    output = decode(run(data, format="png").data)
    reference = cmyk_reference(source, load_cmyk_profile())
    assert mean_difference(output, reference) <= 8
    assert mean_difference(source.convert("RGB"), reference) > 8, "naive CMYK must differ from the profile"


def test_tagged_cmyk_uses_its_own_profile():
    source = images.colourful().convert("CMYK")
    data = images.encode(source, "JPEG", quality=98, icc_profile=load_cmyk_profile())
    output = decode(run(data, format="png").data)
    assert mean_difference(output, cmyk_reference(decode(data), load_cmyk_profile())) <= 8


@pytest.mark.parametrize(
    ("cmyk", "expected"),
    [((0, 0, 0, 0), (255, 255, 255)), ((0, 0, 0, 255), (0, 0, 0)), ((255, 0, 0, 0), (0, 160, 230))],
    ids=["paper-white", "black", "cyan"],
)
def test_cmyk_jpeg_is_never_inverted(cmyk, expected):
    data = images.encode(Image.new("CMYK", (16, 16), cmyk), "JPEG", quality=100)
    pixel = decode(run(data, format="png").data).getpixel((8, 8))
    assert all(abs(a - b) <= 45 for a, b in zip(pixel, expected, strict=True)), pixel


def test_untagged_rgb_is_taken_as_srgb():
    data = images.encode(images.colourful(), "PNG")
    assert mean_difference(decode(run(data, format="png").data), images.colourful()) == 0


def test_broken_profile_is_ignored():
    data = images.encode(images.colourful(), "PNG", icc_profile=b"this is not an ICC profile at all" * 4)
    result = convert(data, ConvertOptions(format="png"), SETTINGS)
    assert mean_difference(decode(result.rendition.data), images.colourful()) == 0
    assert "ignored_broken_icc_profile" in result.notes


def test_profile_that_does_not_fit_the_pixels_is_ignored():
    data = images.encode(images.gradient((32, 32), "L"), "PNG", icc_profile=icc.DISPLAY_P3)
    result = run(data, format="png")
    assert decode(result.data).size == (32, 32)


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_no_profile_is_written(fmt):
    data = images.encode(images.colourful(), "PNG", icc_profile=icc.DISPLAY_P3)
    output = decode(run(data, format=fmt).data)
    assert not output.info.get("icc_profile")


# --- pixel modes -----------------------------------------------------------------------------------------


def grey16(x, y):
    return (x * 65535 // 63,)


@pytest.mark.parametrize(
    ("name", "data", "mode"),
    [
        ("L", images.encode(images.gradient((64, 8), "L"), "PNG"), "RGB"),
        ("LA", images.encode(images.gradient((64, 8), "LA"), "PNG"), "RGB"),
        ("1-bit", images.encode(images.gradient((64, 8), "L").convert("1"), "PNG"), "RGB"),
        ("I;16", images.png_16bit(64, 8, 0, grey16), "RGB"),
        ("16-bit RGB", images.png_16bit(64, 8, 2, lambda x, y: (x * 1040, 30000, 65535 - x * 1040)), "RGB"),
        (
            "16-bit RGBA",
            images.png_16bit(64, 8, 6, lambda x, y: (x * 1040, 30000, 0, 65535 * (x % 2))),
            "RGBA",
        ),
        ("P", images.encode(images.gradient((64, 8)).convert("P"), "PNG"), "RGB"),
        ("CMYK", images.encode(images.gradient((64, 8), "CMYK"), "TIFF"), "RGB"),
        ("YCbCr", images.encode(images.gradient((64, 8)), "JPEG"), "RGB"),
        ("I", images.encode(images.gradient((64, 8), "L").convert("I"), "TIFF"), "RGB"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 20 else "",
)
def test_pixel_modes_become_8bit_rgb_or_rgba(name, data, mode):
    output = decode(run(data, format="png").data)
    assert output.mode == mode, name
    assert output.size == (64, 8)


def test_16bit_gradient_keeps_its_midtones():
    output = decode(run(images.png_16bit(64, 8, 0, grey16), format="png").data).convert("L")
    values = [output.getpixel((x, 4)) for x in range(64)]
    assert values[0] <= 2 and values[-1] >= 253
    assert 120 <= values[32] <= 136, values  # a clipping conversion would give 255 here
    assert values == sorted(values)


def test_real_16bit_files_keep_their_colours():
    flag = decode(run((images.FILES / "Flag_of_the_Netherlands-16bit.png").read_bytes(), format="png").data)
    red, white, blue = (flag.convert("RGB").getpixel((450, y)) for y in (100, 300, 500))
    assert red[0] > 150 and red[1] < 80
    assert min(white) > 230
    assert blue[2] > 100 and blue[0] < 80
    grey_alpha = decode(run((images.FILES / "16-bit-grey-alpha.png").read_bytes(), format="png").data)
    assert grey_alpha.mode == "RGBA"
    alpha = grey_alpha.getchannel("A").getextrema()
    assert alpha[0] < 255


@pytest.mark.parametrize(
    ("mode", "expected"), [("RGBX", "RGB"), ("YCbCr", "RGB"), ("RGBa", "RGBA"), ("La", "LA"), ("PA", "RGBA")]
)
def test_unusual_in_memory_modes_are_normalised(mode, expected):
    image = images.gradient((8, 8)).convert("RGBA").convert(mode) if mode != "PA" else Image.new("PA", (8, 8))
    assert normalise_mode(image).mode == expected


def half_transparent(size=(64, 32)) -> Image.Image:
    image = Image.new("RGBA", size, (200, 40, 40, 255))
    image.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    return image


@pytest.mark.parametrize("fmt", ["webp", "avif", "png"])
def test_transparent_stays_transparent_and_opaque_stays_opaque(fmt):
    output = decode(run(images.encode(half_transparent(), "PNG"), format=fmt).data)
    assert output.mode == "RGBA"
    alpha = output.getchannel("A")
    assert alpha.crop((0, 0, 28, 32)).getextrema()[1] <= 8
    assert alpha.crop((36, 0, 64, 32)).getextrema()[0] >= 247


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_palette_transparency_is_kept(fmt):
    data = images.encode(half_transparent().convert("RGB").quantize(4), "PNG", transparency=0)
    source = decode(data)
    assert source.mode == "P" and "transparency" in source.info
    output = decode(run(data, format=fmt).data)
    assert output.mode == "RGBA"


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_fully_opaque_rgba_is_encoded_without_alpha(fmt):
    data = images.encode(images.gradient().convert("RGBA"), "PNG")
    assert decode(run(data, format=fmt).data).mode == "RGB"


# --- animation -------------------------------------------------------------------------------------------


def frame_facts(data: bytes) -> tuple[int, list[int], list[tuple[int, int]]]:
    image = Image.open(io.BytesIO(data))
    durations, sizes = [], []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        image.load()
        durations.append(image.info.get("duration"))
        sizes.append(image.size)
    return image.info.get("loop"), durations, sizes


COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


@pytest.mark.parametrize("source_format", ["GIF", "WEBP"])
@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_animations_stay_animated_with_durations(source_format, fmt):
    data = images.animation(COLOURS, [100, 200, 300], source_format, loop=0)
    result = run(data, format=fmt, width=20)
    assert result.frames == 3
    loop, durations, sizes = frame_facts(result.data)
    assert durations == [100, 200, 300]
    assert sizes == [(20, 15)] * 3
    if fmt == "webp":
        assert loop == 0


def test_animation_frames_keep_their_colours():
    data = images.animation(COLOURS, [100, 100, 100], "GIF", loop=0)
    output = Image.open(io.BytesIO(run(data, format="webp").data))
    for index, colour in enumerate(COLOURS):
        output.seek(index)
        pixel = output.convert("RGB").getpixel((10, 10))
        assert all(abs(a - b) <= 12 for a, b in zip(pixel, colour, strict=True)), (index, pixel)


@pytest.mark.parametrize(("loop", "expected"), [(0, 0), (3, 3), (None, 1)])
def test_loop_count_is_kept(loop, expected):
    params = {} if loop is None else {"loop": loop}
    data = images.animation(COLOURS, [100, 100, 100], "GIF", **params)
    assert frame_facts(run(data, format="webp").data)[0] == expected


def test_animated_false_takes_the_first_frame():
    data = images.animation(COLOURS, [100, 200, 300], "GIF", loop=0)
    result = run(data, format="webp", animated=False)
    assert result.frames == 1
    pixel = decode(result.data).convert("RGB").getpixel((5, 5))
    assert pixel[0] > 200 and pixel[1] < 40


def test_real_animations_convert():
    gif = run((images.FILES / "animated-loop-3.gif").read_bytes(), format="webp")
    webp = run((images.FILES / "rotating-squares.webp").read_bytes(), format="avif")
    assert gif.frames > 1 and webp.frames > 1


def test_frames_count_towards_the_pixel_budget():
    data = images.animation(COLOURS * 2, [100] * 6, "GIF", size=(100, 100))
    with pytest.raises(ImageTooLarge) as caught:
        run(data, pipeline_settings(max_source_pixels=50_000))
    assert "frames" in caught.value.message
    assert run(data, pipeline_settings(max_source_pixels=50_000), animated=False).frames == 1


def test_more_frames_than_max_frames_is_refused():
    data = images.animation(COLOURS * 2, [100] * 6, "GIF")
    with pytest.raises(ImageTooLarge) as caught:
        run(data, pipeline_settings(max_frames=5))
    assert caught.value.code == "too_many_frames"


# --- fit and enlargement ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "options", "resized", "canvas"),
    [
        ((400, 200), {"width": 100}, (100, 50), (100, 50)),
        ((400, 200), {"height": 50}, (100, 50), (100, 50)),
        ((400, 200), {"width": 800}, (400, 200), (400, 200)),
        ((400, 200), {"width": 800, "enlarge": True}, (800, 400), (800, 400)),
        ((400, 200), {"height": 300}, (400, 200), (400, 200)),
        ((400, 200), {"width": 100, "height": 100}, (100, 100), (100, 100)),
        ((400, 200), {"width": 100, "height": 100, "fit": "inside"}, (100, 50), (100, 50)),
        ((400, 200), {"width": 100, "height": 100, "fit": "cover"}, (100, 100), (100, 100)),
        ((400, 200), {"width": 100, "height": 100, "fit": "contain"}, (100, 50), (100, 100)),
        ((400, 200), {"width": 800, "height": 800}, (200, 200), (200, 200)),
        ((400, 200), {"width": 800, "height": 400, "fit": "cover"}, (400, 200), (400, 200)),
        ((400, 200), {"width": 1000, "height": 1000, "fit": "contain"}, (200, 100), (200, 200)),
        ((400, 200), {"width": 1000, "height": 1000, "fit": "inside"}, (400, 200), (400, 200)),
        (
            (400, 200),
            {"width": 1000, "height": 1000, "fit": "inside", "enlarge": True},
            (1000, 500),
            (1000, 500),
        ),
        ((400, 200), {"width": 800, "height": 800, "enlarge": True}, (800, 800), (800, 800)),
    ],
)
def test_geometry_rules(source, options, resized, canvas):
    plan = geometry.plan(source, ConvertOptions(**options))
    assert plan.resized == resized
    assert plan.canvas == canvas


def bands(size=(300, 100)) -> Image.Image:
    """Red left third, green middle, blue right third."""
    image = Image.new("RGB", size, (0, 200, 0))
    image.paste((220, 0, 0), (0, 0, size[0] // 3, size[1]))
    image.paste((0, 0, 220), (2 * size[0] // 3, 0, size[0], size[1]))
    return image


def test_cover_crops_the_centre():
    output = decode(run(images.encode(bands(), "PNG"), format="png", width=50, height=50, fit="cover").data)
    assert output.size == (50, 50)
    assert output.getpixel((2, 25))[1] > 150 and output.getpixel((47, 25))[1] > 150  # only green remains


@pytest.mark.parametrize(("fmt", "corner"), [("webp", 0), ("png", 0), ("jpeg", None)])
def test_contain_pads_transparent_or_white(fmt, corner):
    output = decode(run(images.encode(bands(), "PNG"), format=fmt, width=60, height=60, fit="contain").data)
    assert output.size == (60, 60)
    if corner is None:
        assert min(output.getpixel((30, 2))) >= 245  # white bar above the image
    else:
        assert output.getpixel((30, 2))[3] == corner  # transparent bar above the image
        assert output.getpixel((30, 30))[3] == 255


def test_fill_stretches_to_the_exact_box():
    output = decode(run(images.encode(bands(), "PNG"), format="png", width=90, height=90).data)
    assert output.size == (90, 90)
    assert output.getpixel((5, 45))[0] > 150 and output.getpixel((85, 45))[2] > 150


# --- lossless and fallback outputs -----------------------------------------------------------------------


def test_lossless_webp_is_exact_and_ignores_quality():
    data = images.encode(images.colourful(), "PNG")
    low = run(data, format="webp", lossless=True, quality=1).data
    high = run(data, format="webp", lossless=True, quality=100).data
    assert low == high
    assert mean_difference(decode(low).convert("RGB"), images.colourful()) == 0


def test_lossless_avif_is_near_exact():
    data = images.encode(images.colourful(), "PNG")
    output = decode(run(data, format="avif", lossless=True).data).convert("RGB")
    lossy = decode(run(data, format="avif", quality=30).data).convert("RGB")
    assert mean_difference(output, images.colourful()) <= 1.0
    assert mean_difference(output, images.colourful()) < mean_difference(lossy, images.colourful())


def test_jpeg_output_is_flattened_on_white_and_progressive():
    output = decode(run(images.encode(half_transparent(), "PNG"), format="jpeg").data)
    assert output.mode == "RGB"
    assert min(output.getpixel((5, 5))) >= 245
    assert output.info.get("progressive") or output.info.get("progression")


def test_png_output_is_optimised_png():
    result = run(images.jpeg((64, 48)), format="png")
    assert decode(result.data).format == "PNG"
    assert result.media_type == "image/png"


# --- resampling ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["png", "jpeg"])
def test_downscaled_checkerboard_becomes_flat_grey(source):
    params = {"quality": 100} if source == "jpeg" else {}
    data = images.encode(images.checkerboard(1000), source.upper(), **params)
    output = decode(run(data, format="png", width=97).data).convert("L")
    stat = ImageStat.Stat(output)
    assert 115 <= stat.mean[0] <= 140
    assert stat.stddev[0] <= 6, stat.stddev
    nearest = images.checkerboard(1000).resize((97, 97), Image.Resampling.NEAREST)
    assert ImageStat.Stat(nearest).stddev[0] > 60, "nearest-neighbour would alias: the test can fail"
