"""pixelate(size): GD's pixelate, blocks from the top-left corner filled with their average."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.gd import numpy, truecolor
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, number


def pixelate(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    """libgd's gdImagePixelate, GD_PIXELATE_AVERAGE: each size x size block (cut short at the right and
    bottom edges) takes the mean of its pixels, every channel alpha too, truncated."""
    size = operation["size"]
    if size <= 1:
        return image
    np = numpy()
    image = truecolor(image)
    pixels = np.asarray(image)
    height, width = pixels.shape[:2]
    starts_y, starts_x = np.arange(0, height, size), np.arange(0, width, size)
    # Sums of each block (rows, then columns), and how many pixels each has (the last ones cut short).
    sums = np.add.reduceat(np.add.reduceat(pixels.astype(np.int32), starts_y, axis=0), starts_x, axis=1)
    counts = np.diff(np.append(starts_y, height))[:, None] * np.diff(np.append(starts_x, width))[None, :]
    means = (sums // counts[:, :, None]).astype(np.uint8)
    blocks = means[np.arange(height) // size][:, np.arange(width) // size]
    return Image.fromarray(blocks, image.mode)


PIXELATE = OperationSpec(
    name="pixelate",
    summary="pixelates: blocks of this many pixels, each its average colour",
    follows="imagefilter(IMG_FILTER_PIXELATE, size, true)",
    params=(Param("size", number(0, 100, integer=True), "block size in pixels", 50, "0 to 100"),),
    apply=pixelate,
)
