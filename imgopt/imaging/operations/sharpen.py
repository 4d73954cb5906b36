"""sharpen(amount): spatie/image's GD sharpen, a 3x3 convolution whose matrix grows with the amount."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.gd import convolve3x3
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, number


def matrix(amount: float) -> list[list[float]]:
    """The matrix spatie/image builds (GdDriver::sharpen): corners only from 10 up, and a centre that keeps
    the sum at 1."""
    corner = amount * -0.01 if amount >= 10 else 0.0
    side = amount * -0.025
    centre = ((4 * corner + 4 * side) * -1) + 1
    return [[corner, side, corner], [side, centre, side], [corner, side, corner]]


def sharpen(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    return convolve3x3(image, matrix(operation["amount"]), 1.0, 0.0)


SHARPEN = OperationSpec(
    name="sharpen",
    summary="sharpens with a 3x3 matrix that grows with the amount (the media library's docs use 10)",
    follows="imageconvolution(matrix, 1, 0)",
    params=(Param("amount", number(0, 100), "how much", values="0 to 100"),),
    apply=sharpen,
)
