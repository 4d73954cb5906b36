"""colorize(red, green, blue): GD's colorize, a value added to each colour channel."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.gd import php_round, point
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, number


def table(level: float) -> list[int]:
    """libgd's gdImageColor with spatie/image's value: round(level x 2.55) added, clamped."""
    added = php_round(level * 2.55)
    return [max(0, min(255, value + added)) for value in range(256)]


def colorize(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    return point(image, [table(operation[channel]) for channel in ("red", "green", "blue")])


LEVEL = number(-100, 100, integer=True)
COLORIZE = OperationSpec(
    name="colorize",
    summary="adds to each colour channel (a tint)",
    follows="imagefilter(IMG_FILTER_COLORIZE, round(red x 2.55), round(green x 2.55), round(blue x 2.55))",
    params=(
        Param("red", LEVEL, "added to red", values="-100 to 100"),
        Param("green", LEVEL, "added to green", values="-100 to 100"),
        Param("blue", LEVEL, "added to blue", values="-100 to 100"),
    ),
    apply=colorize,
    passes=lambda _operation: 0.1,
)
