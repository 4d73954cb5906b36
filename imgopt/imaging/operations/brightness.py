"""brightness(level): GD's brightness, the same value added to every colour channel."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.gd import php_round, point
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, number


def table(level: float) -> list[int]:
    """libgd's gdImageBrightness with spatie/image's value: round(level x 2.55) added, clamped."""
    added = php_round(level * 2.55)
    return [max(0, min(255, value + added)) for value in range(256)]


def brightness(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    return point(image, [table(operation["level"])] * 3)


BRIGHTNESS = OperationSpec(
    name="brightness",
    summary="brightens (or, below 0, darkens) every colour channel alike",
    follows="imagefilter(IMG_FILTER_BRIGHTNESS, round(level x 2.55))",
    params=(Param("level", number(-100, 100, integer=True), "how much", values="-100 to 100"),),
    apply=brightness,
    passes=lambda _operation: 0.1,
)
