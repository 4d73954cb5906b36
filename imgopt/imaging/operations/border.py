"""border(width, type, color): spatie/image's GD border: drawn over the edge (overlay), around the image
(expand), or around the image made smaller to keep its size (shrink)."""

from __future__ import annotations

from PIL import Image, ImageDraw

from imgopt.imaging.operations.canvas import resize_canvas, resized, resized_size
from imgopt.imaging.operations.gd import php_round, truecolor
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, choice, colour, number

Rect = tuple[int, int, int, int]  # left, top, right, bottom, inclusive


def overlay_rects(width: int, height: int, thickness: int) -> list[Rect]:
    """The pixels libgd's gdImageRectangle sets for spatie/image's overlay border: a rectangle from
    (round(t / 2), round(t / 2)) to (round(w - t / 2), round(h - t / 2)) in lines t thick. Lines 0 or 1 thick
    are single pixels clipped to the image (so at width 0 the top row and left column, the right and bottom
    lines falling just outside); thicker ones are bands, the sides a pixel wider than t, as GD draws them."""
    x1 = y1 = php_round(thickness / 2)
    x2, y2 = php_round(width - thickness / 2), php_round(height - thickness / 2)
    if x1 == x2 and y1 == y2 and thickness == 1:
        return [(x1, y1, x1, y1)]
    if thickness > 1:
        half = thickness >> 1
        left, top, right, bottom = x1 - half, y1 - half, x2 + half, y2 + half
        return [
            (left, top, right, top + thickness - 1),
            (left, bottom - thickness + 1, right, bottom),
            (left, top + thickness, left + thickness, bottom - thickness),
            (right - thickness, top + thickness, right, bottom - thickness),
        ]
    if x1 == x2 or y1 == y2:
        return [(x1, y1, x2, y2)]
    return [(x1, y1, x2, y1), (x1, y2, x2, y2), (x1, y1 + 1, x1, y2 - 1), (x2, y1 + 1, x2, y2 - 1)]


def border(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    thickness, kind, color = operation["width"], operation["type"], operation["color"]
    image = truecolor(image)
    if kind == "expand":
        return resize_canvas(image, (2 * thickness, 2 * thickness), color, relative=True)
    if kind == "shrink":
        inner = resized_size(
            image.size, (image.width - 2 * thickness, image.height - 2 * thickness), keep_ratio=True
        )
        return resize_canvas(resized(image, inner), image.size, color)
    image = image.copy()
    draw = ImageDraw.Draw(image)
    fill = color if image.mode == "RGB" else (*color, 255)
    for left, top, right, bottom in overlay_rects(image.width, image.height, thickness):
        box = (max(0, left), max(0, top), min(image.width - 1, right), min(image.height - 1, bottom))
        if box[0] <= box[2] and box[1] <= box[3]:
            draw.rectangle(box, fill=fill)
    return image


def bordered_size(size: tuple[int, int], operation: Operation) -> tuple[int, int]:
    thickness = operation["width"]
    if operation["type"] == "expand":
        return size[0] + 2 * thickness, size[1] + 2 * thickness
    if operation["type"] == "shrink" and min(size) - 2 * thickness < 1:
        msg = f"a shrink border {thickness} px wide leaves nothing of a {size[0]}x{size[1]} image"
        raise ValueError(msg)
    return size


BORDER = OperationSpec(
    name="border",
    summary="a border: `overlay` drawn over the image's edge, `expand` around it (the image grows by twice "
    "the width), `shrink` around the image made smaller to keep its size",
    follows="imagerectangle with imagesetthickness (overlay), resizeCanvas (expand, shrink)",
    params=(
        Param("width", number(0, 1000, integer=True), "in pixels", values="0 to 1000"),
        Param("type", choice("overlay", "expand", "shrink"), "where", "overlay", "overlay, expand, shrink"),
        Param("color", colour, "its colour", (0, 0, 0), "#rgb or #rrggbb"),
    ),
    apply=border,
    size=bordered_size,
    passes=lambda _operation: 0.2,
)
