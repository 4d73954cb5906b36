"""spatie/image's size arithmetic and canvas on Pillow frames, as its GD driver does them: Size::resize with
its constraints, width(), height(), fit(), resizeCanvas() and the align/relativePosition pair that places
one image on another. The border and the watermark are made of these.

GD resamples with imagecopyresampled; here a resize is Pillow's Lanczos, the service's own (the sizes are
spatie/image's exactly, the pixels within the tolerance tests/test_operations.py holds them to).
"""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.gd import php_round

RESAMPLE = Image.Resampling.LANCZOS

# AlignPosition's values, each by the canonical name the service uses.
POSITIONS = (
    "top-left",
    "top",
    "top-right",
    "left",
    "center",
    "right",
    "bottom-left",
    "bottom",
    "bottom-right",
)
POSITION_ALIASES = {
    "top-center": "top",
    "top-middle": "top",
    "center-top": "top",
    "middle-top": "top",
    "right-top": "top-right",
    "left-center": "left",
    "left-middle": "left",
    "center-left": "left",
    "middle-left": "left",
    "right-center": "right",
    "right-middle": "right",
    "center-right": "right",
    "middle-right": "right",
    "left-bottom": "bottom-left",
    "bottomcenter": "bottom",
    "bottom-center": "bottom",
    "bottom-middle": "bottom",
    "center-bottom": "bottom",
    "middle-bottom": "bottom",
    "right-bottom": "bottom-right",
    "middle": "center",
    "centercenter": "center",
    "middlemiddle": "center",
    "left-top": "top-left",
}


def resized_size(
    size: tuple[int, int], desired: tuple[int, int], *, keep_ratio: bool, no_upsize: bool = False
) -> tuple[int, int]:
    """Size::resize: the larger of the width-first and height-first fits that fits the desired box."""

    def by_width(current: tuple[int, int], width: int) -> tuple[int, int]:
        new_width = min(width, current[0]) if no_upsize else width
        new_height = current[1]
        if keep_ratio:
            calculated = max(1, php_round(new_width / (current[0] / current[1])))
            new_height = min(calculated, current[1]) if no_upsize else calculated
        return new_width, new_height

    def by_height(current: tuple[int, int], height: int) -> tuple[int, int]:
        new_height = min(height, current[1]) if no_upsize else height
        new_width = current[0]
        if keep_ratio:
            calculated = max(1, php_round(new_height * (current[0] / current[1])))
            new_width = min(calculated, current[0]) if no_upsize else calculated
        return new_width, new_height

    dominant_width = by_width(by_height(size, desired[1]), desired[0])
    dominant_height = by_height(by_width(size, desired[0]), desired[1])
    fits = dominant_height[0] <= desired[0] and dominant_height[1] <= desired[1]
    return dominant_height if fits else dominant_width


def resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image if image.size == size else image.resize(size, RESAMPLE)


def to_width(image: Image.Image, width: int) -> Image.Image:
    """spatie/image's width(): the height from the aspect ratio, then resize() keeping it."""
    height = php_round(width / (image.width / image.height))
    return resized(image, resized_size(image.size, (width, height), keep_ratio=True))


def to_height(image: Image.Image, height: int) -> Image.Image:
    """spatie/image's height()."""
    width = php_round(height * (image.width / image.height))
    return resized(image, resized_size(image.size, (width, height), keep_ratio=True))


def pivot(size: tuple[int, int], position: str, offset: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    """Size::align: the point of a size a position names; the offsets move it inwards, and only along the axis
    the position is against an edge of (both for the centre), as spatie/image does."""
    width, height = size
    x_offset, y_offset = offset
    middle_x, middle_y = int(width / 2), int(height / 2)
    return {
        "top": (middle_x, y_offset),
        "top-right": (width - x_offset, y_offset),
        "left": (x_offset, middle_y),
        "right": (width - x_offset, middle_y),
        "bottom-left": (x_offset, height - y_offset),
        "bottom": (middle_x, height - y_offset),
        "bottom-right": (width - x_offset, height - y_offset),
        "center": (middle_x + x_offset, middle_y + y_offset),
        "top-left": (x_offset, y_offset),
    }[position]


def placed(
    size: tuple[int, int], other: tuple[int, int], position: str, offset: tuple[int, int]
) -> tuple[int, int]:
    """Where ``other`` goes on ``size`` (its top-left corner): relativePosition of the two pivots."""
    ours, theirs = pivot(size, position, offset), pivot(other, position)
    return ours[0] - theirs[0], ours[1] - theirs[1]


def resize_canvas(
    image: Image.Image,
    size: tuple[int, int],
    background: tuple[int, int, int],
    *,
    position: str = "center",
    relative: bool = False,
) -> Image.Image:
    """GdDriver::resizeCanvas: a canvas of ``size`` (added to the image's with ``relative``; a side of 0 or
    less is added to it) in the background colour, the image placed at ``position``; a smaller side cuts
    the image. The image's own area keeps its own transparency."""
    width, height = size
    if relative:
        width, height = image.width + width, image.height + height
    width = width + image.width if width <= 0 else width
    height = height + image.height if height <= 0 else height
    # Where the image goes on the canvas; where the canvas would go on the image (a side that cuts).
    offset = placed((width, height), image.size, position, (0, 0))
    if width <= image.width:
        destination_x, source_x, source_width = 0, -offset[0], width
    else:
        destination_x, source_x, source_width = offset[0], 0, image.width
    if height <= image.height:
        destination_y, source_y, source_height = 0, -offset[1], height
    else:
        destination_y, source_y, source_height = offset[1], 0, image.height
    mode = "RGBA" if image.mode == "RGBA" else "RGB"
    canvas = Image.new(mode, (width, height), background if mode == "RGB" else (*background, 255))
    area = image.crop((source_x, source_y, source_x + source_width, source_y + source_height))
    canvas.paste(area.convert(mode), (destination_x, destination_y))
    return canvas


def fit(image: Image.Image, how: str, width: int | None, height: int | None) -> Image.Image:
    """GdDriver::fit on a whole image (the watermark): each Fit's constraints; fill and fill-max pad it on
    white, crop cuts a centred box, as spatie/image does."""
    white = (255, 255, 255)
    if how == "crop":
        return _fit_crop(image, width or image.width, height or image.height)
    if how == "fill-max":
        box = (width or image.width, height or image.height)
        image = resized(image, resized_size(image.size, box, keep_ratio=True))
        return resize_canvas(image, box, white)
    desired = (width or image.width, height or image.height)
    keep_ratio = how != "stretch"
    no_upsize = how in ("fill", "max")
    image = resized(image, resized_size(image.size, desired, keep_ratio=keep_ratio, no_upsize=no_upsize))
    if how == "fill":
        return resize_canvas(image, (width or image.width, height or image.height), white)
    return image


def _fit_crop(image: Image.Image, width: int, height: int) -> Image.Image:
    """PerformsFitCrops::fitCrop: scaled to cover the box, then cut to it around the centre."""
    original = image.size
    if original[0] < width or original[1] < height:
        image = to_height(image, height) if width < height else to_width(image, width)
    image = to_height(image, height) if original[0] / original[1] > width / height else to_width(image, width)
    return resize_canvas(image, (width, height), (255, 255, 255))
