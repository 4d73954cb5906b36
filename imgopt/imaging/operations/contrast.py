"""contrast(level): GD's contrast, each channel stretched around the middle grey."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.gd import point
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, number


def table(level: float) -> list[int]:
    """libgd's gdImageContrast with spatie/image's value (GD's contrast is its negative): each channel
    ((v / 255 - 0.5) x ((100 + level) / 100)^2 + 0.5) x 255, clamped and truncated."""
    factor = ((100.0 - -level) / 100.0) ** 2
    return [int(max(0.0, min(255.0, ((value / 255.0 - 0.5) * factor + 0.5) * 255.0))) for value in range(256)]


def contrast(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    return point(image, [table(operation["level"])] * 3)


CONTRAST = OperationSpec(
    name="contrast",
    summary="raises (or, below 0, lowers) the contrast around the middle grey",
    follows="imagefilter(IMG_FILTER_CONTRAST, -level)",
    params=(Param("level", number(-100, 100), "how much", values="-100 to 100"),),
    apply=contrast,
    passes=lambda _operation: 0.1,
)
