"""sepia(): spatie/image's GD sepia, made of its other filters: greyscale, contrast, a brown tint,
contrast again."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.colorize import table as tint_table
from imgopt.imaging.operations.contrast import table as contrast_table
from imgopt.imaging.operations.gd import point
from imgopt.imaging.operations.greyscale import greyscale
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec

# GdDriver::sepia: greyscale(), brightness(0) (GD skips it), contrast(5), colorize(38, 25, 10), contrast(5).
TINT = (38, 25, 10)
CONTRAST = 5


def sepia(image: Image.Image, _operation: Operation, assets: Assets) -> Image.Image:
    image = greyscale(image, Operation("greyscale"), assets)
    stretch = contrast_table(CONTRAST)
    tint = [tint_table(level) for level in TINT]
    # Three point filters in a row are one table per channel.
    tables = [[stretch[tint[channel][stretch[value]]] for value in range(256)] for channel in range(3)]
    return point(image, tables)


SEPIA = OperationSpec(
    name="sepia",
    summary="an old photo's brown: grey, more contrast, a brown tint, more contrast",
    follows="greyscale(), contrast(5), colorize(38, 25, 10), contrast(5)",
    params=(),
    apply=sepia,
    passes=lambda _operation: 1.2,
)
