"""greyscale(): GD's grey, Rec. 601 luma truncated to a whole value, alpha kept."""

from __future__ import annotations

from typing import Any

from PIL import Image

from imgopt.imaging.operations.gd import map_rgb, numpy
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec


def grey(band: Any) -> Any:
    """libgd's gdImageGrayScale: (int)(.299 r + .587 g + .114 b), in double precision."""
    np = numpy()
    rgb = band.astype(np.float64)
    luma = (0.299 * rgb[:, :, 0] + 0.587 * rgb[:, :, 1] + 0.114 * rgb[:, :, 2]).astype(np.uint8)
    return np.repeat(luma[:, :, None], 3, axis=2)


def greyscale(image: Image.Image, _operation: Operation, _assets: Assets) -> Image.Image:
    return map_rgb(image, grey)


GREYSCALE = OperationSpec(
    name="greyscale",
    summary="turns the colours grey (Rec. 601 luma), keeping transparency",
    follows="imagefilter(IMG_FILTER_GRAYSCALE)",
    params=(),
    apply=greyscale,
)
