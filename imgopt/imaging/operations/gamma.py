"""gamma(value): PHP's imagegammacorrect as spatie/image calls it, from 1 to the value."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.gd import point
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, number


def table(gamma: float) -> list[int]:
    """(int)(pow(v / 255, 1 / gamma) x 255 + 0.5) for each channel."""
    return [int(pow(value / 255.0, 1.0 / gamma) * 255 + 0.5) for value in range(256)]


def gamma(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    return point(image, [table(operation["value"])] * 3)


GAMMA = OperationSpec(
    name="gamma",
    summary="gamma correction: above 1 lightens the mid-tones, below 1 darkens them",
    follows="imagegammacorrect(1, value)",
    params=(Param("value", number(0.1, 9.99), "the gamma", values="0.1 to 9.99"),),
    apply=gamma,
    passes=lambda _operation: 0.1,
)
