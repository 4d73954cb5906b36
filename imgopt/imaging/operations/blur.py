"""blur(amount): spatie/image's GD blur, GD's 3x3 Gaussian applied as many times as the amount."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.gd import convolve3x3
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, number

GAUSSIAN = [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]


def blur(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    for _ in range(operation["amount"]):
        image = convolve3x3(image, GAUSSIAN, 16.0, 0.0)
    return image


BLUR = OperationSpec(
    name="blur",
    summary="blurs: GD's 3x3 Gaussian, as many passes as the amount",
    follows="imagefilter(IMG_FILTER_GAUSSIAN_BLUR), amount times",
    params=(Param("amount", number(0, 100, integer=True), "passes", values="0 to 100"),),
    apply=blur,
    passes=lambda operation: float(operation["amount"]),
)
