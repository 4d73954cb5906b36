"""flip(direction): a mirror image, left to right, top to bottom, or both."""

from __future__ import annotations

from PIL import Image

from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec, Param, choice

TRANSPOSES = {
    "horizontal": (Image.Transpose.FLIP_LEFT_RIGHT,),
    "vertical": (Image.Transpose.FLIP_TOP_BOTTOM,),
    "both": (Image.Transpose.ROTATE_180,),
}


def flip(image: Image.Image, operation: Operation, _assets: Assets) -> Image.Image:
    for method in TRANSPOSES[operation["direction"]]:
        image = image.transpose(method)
    return image


FLIP = OperationSpec(
    name="flip",
    summary="mirrors the image: `horizontal` (left to right), `vertical` (top to bottom) or `both`",
    follows="imageflip(IMG_FLIP_HORIZONTAL, _VERTICAL or _BOTH)",
    params=(Param("direction", choice(*TRANSPOSES), "which way", values="horizontal, vertical, both"),),
    apply=flip,
    passes=lambda _operation: 0.1,
)
