"""watermark(...): a second image of the request (its ``watermark`` file part) laid over the frame, as
spatie/image's GD driver lays it (AddsWatermark, then GdDriver::insert): sized in pixels or percent of the
frame, placed at a position with padding, merged at an opacity.

GD merges the watermark's rectangle onto the frame opaque: on a frame with transparency it first flattens
that rectangle onto black. Here a frame's transparency is kept instead, the watermark composited over it
at the opacity (as Imagick does); an opaque frame gets GD's arithmetic exactly.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from imgopt.imaging.operations.canvas import POSITION_ALIASES, POSITIONS, fit, placed, to_height, to_width
from imgopt.imaging.operations.gd import numpy, truecolor
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, choice, number

UNITS = choice("px", "percent", aliases={"pixel": "px", "pixels": "px", "%": "percent"})
FITS = ("contain", "max", "fill", "stretch", "crop", "fill-max")
PART = "watermark"


def watermark(image: Image.Image, operation: Operation, assets: Assets) -> Image.Image:
    frame = truecolor(image)
    mark = assets[(PART, operation[PART])]
    padding = (
        _measure(operation["padding_x"], operation["padding_unit"], frame.width),
        _measure(operation["padding_y"], operation["padding_unit"], frame.height),
    )
    width = _measure(operation["width"], operation["width_unit"], frame.width) if operation["width"] else None
    # As spatie/image 3.9 computes it, the height is measured in the width's unit.
    height = (
        _measure(operation["height"], operation["width_unit"], frame.height) if operation["height"] else None
    )
    if width is None and height is not None:
        mark = to_height(mark, height)
    elif width is not None and height is None:
        mark = to_width(mark, width)
    else:
        mark = fit(mark, operation["fit"], width, height)
    return _insert(
        frame,
        mark.convert("RGBA"),
        placed(frame.size, mark.size, operation["position"], padding),
        operation["alpha"],
    )


def _measure(value: int, unit: str, whole: int) -> int:
    """calculateWatermarkX/Y: pixels, or a percent of the frame's side, truncated."""
    return int(whole * value / 100) if unit == "percent" else value


def _insert(frame: Image.Image, mark: Image.Image, at: tuple[int, int], opacity: int) -> Image.Image:
    """GdDriver::insert: the watermark blended onto its rectangle of the frame (GD's 7-bit alpha blend), then
    that rectangle merged into the frame at ``opacity`` percent (imagecopymerge, truncated)."""
    np = numpy()
    left, top = max(0, at[0]), max(0, at[1])
    right, bottom = min(frame.width, at[0] + mark.width), min(frame.height, at[1] + mark.height)
    if left >= right or top >= bottom:
        return frame
    mark = mark.crop((left - at[0], top - at[1], right - at[0], bottom - at[1]))
    pixels = np.array(frame)
    region = pixels[top:bottom, left:right]
    if frame.mode == "RGBA" and region[:, :, 3].min() < 255:
        faded = mark.copy()
        faded.putalpha(mark.getchannel("A").point(lambda a: a * opacity // 100))
        composed = Image.alpha_composite(Image.fromarray(np.ascontiguousarray(region), "RGBA"), faded)
        pixels[top:bottom, left:right] = np.asarray(composed)
        return Image.fromarray(pixels, frame.mode)
    over = np.asarray(mark).astype(np.int64)
    under = region[:, :, :3].astype(np.int64)
    weight = (over[:, :, 3:4] >> 1).astype(np.int64)  # GD's alpha: 127 - (a >> 1); the source's weight
    cut = (over[:, :, :3] * weight + under * (127 - weight)) // 127
    merged = cut * (opacity / 100.0) + under * ((100 - opacity) / 100.0)
    pixels[top:bottom, left:right, :3] = merged.astype(np.uint8)
    return Image.fromarray(pixels, frame.mode)


def check(operation: Operation) -> None:
    """Percentages from 0 to 100, as spatie/image checks them."""
    for name, unit in (
        ("padding_x", "padding_unit"),
        ("padding_y", "padding_unit"),
        ("width", "width_unit"),
        ("height", "height_unit"),
    ):
        if operation[unit] == "percent" and operation[name] > 100:
            msg = f"{name} in percent must be from 0 to 100, got {operation[name]}"
            raise ValueError(msg)


def prepare(operation: Operation, assets: Assets, decode: Callable[[bytes, str], Image.Image]) -> None:
    """Decode the watermark once for the set, with the upload's checks (``decode``): its format from its
    bytes (415), its size (422), a decode that fails (422); upright, in sRGB."""
    key = (PART, operation[PART])
    if key not in assets:
        assets[key] = decode(operation[PART], PART)


PERCENT_OR_PIXELS = number(0, 10000, integer=True)
WATERMARK = OperationSpec(
    name="watermark",
    summary="lays the request's `watermark` file part over the image: sized, placed with padding, at an "
    "opacity",
    follows="AddsWatermark::watermark, GdDriver::insert (imagecopymerge)",
    params=(
        Param(PART, lambda text: text, "the `watermark` file part (not written)", values="file part"),
        Param(
            "position",
            choice(*POSITIONS, aliases=POSITION_ALIASES),
            "where",
            "bottom-right",
            ", ".join(POSITIONS),
        ),
        Param("padding_x", PERCENT_OR_PIXELS, "from the edge", 0, "0 to 10000"),
        Param("padding_y", PERCENT_OR_PIXELS, "from the edge", 0, "0 to 10000"),
        Param("padding_unit", UNITS, "of both paddings", "px", "px, percent"),
        Param("width", PERCENT_OR_PIXELS, "the watermark's (0: its own)", 0, "0 to 10000"),
        Param("width_unit", UNITS, "of the width, and of the height", "px", "px, percent"),
        Param("height", PERCENT_OR_PIXELS, "the watermark's (0: its own)", 0, "0 to 10000"),
        Param(
            "height_unit",
            UNITS,
            "checked as spatie/image checks it; the height uses width_unit",
            "px",
            "px, percent",
        ),
        Param("fit", choice(*FITS), "how width and height together are met", "contain", ", ".join(FITS)),
        Param("alpha", number(0, 100, integer=True), "opacity in percent", 100, "0 to 100"),
    ),
    apply=watermark,
    check=check,
    prepare=prepare,
    image_part=PART,
    passes=lambda _operation: 0.5,
)
