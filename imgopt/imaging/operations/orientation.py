"""orientation(degrees): a quarter, half or three-quarter turn clockwise, on top of the EXIF orientation."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, choice

# spatie/image's Orientation values, each GD's imagerotate(-degrees): a clockwise turn.
TURNS = {
    "0": None,
    "90": Image.Transpose.ROTATE_270,
    "180": Image.Transpose.ROTATE_180,
    "270": Image.Transpose.ROTATE_90,
    "-90": Image.Transpose.ROTATE_90,
}


def orientation(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    method = TURNS[operation["degrees"]]
    return image if method is None else image.transpose(method)


def turned_size(size: tuple[int, int], operation: Operation) -> tuple[int, int]:
    return (size[1], size[0]) if operation["degrees"] in ("90", "270", "-90") else size


ORIENTATION = OperationSpec(
    name="orientation",
    summary="turns the image clockwise by 90, 180 or 270 degrees (-90: a quarter turn the other way), after "
    "the EXIF orientation has made it upright",
    follows="imagerotate(-degrees)",
    params=(Param("degrees", choice(*TURNS), "the turn", values="0, 90, 180, 270, -90"),),
    apply=orientation,
    size=turned_size,
    passes=lambda _operation: 0.1,
)
