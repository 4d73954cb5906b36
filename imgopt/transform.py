"""Pixel steps on one decoded frame: mode, orientation, resize, colour and padding.

Each step is a small function of an image and the facts it needs, shared by the single conversion
(pipeline.py) and the rendition sets (renditions.py).
"""

from __future__ import annotations

from PIL import Image

from .colour import normalise_mode, to_srgb
from .geometry import Geometry

TRANSPOSE_FOR_ORIENTATION = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


RESAMPLE = Image.Resampling.LANCZOS


# Shrink by whole factors with box averaging first, then finish with Lanczos: as sharp as Lanczos alone
# (the last step still spans >= 3x) and much faster on large downscales. See docs/api.md.
REDUCING_GAP = 3.0


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """A decoded frame in a working mode and turned upright: what every later step starts from."""
    return apply_orientation(normalise_mode(image), orientation)


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Rotate or flip so the image is upright, as its EXIF orientation says."""
    for method in TRANSPOSE_FOR_ORIENTATION.get(orientation, ()):
        image = image.transpose(method)
    return image


def resize(image: Image.Image, plan: Geometry) -> Image.Image:
    """Scale (and for cover, crop) to the planned size.

    ``image`` is the whole upright source at any scale (a draft decode, or a larger rendition of it): the
    plan's crop box, in source pixels, is mapped onto it.
    """
    target = plan.resized
    scale_x = image.width / plan.source_size[0]
    scale_y = image.height / plan.source_size[1]
    box = plan.crop_box
    if box is None and image.size == target:
        return image
    if box is not None:
        box = (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)
    return image.resize(target, RESAMPLE, box=box, reducing_gap=REDUCING_GAP)


def pad(image: Image.Image, plan: Geometry, output_format: str) -> Image.Image:
    """For fit=contain, centre the image on the exact box: transparent, or white for JPEG."""
    if image.size == plan.canvas:
        return image
    if output_format == "jpeg":
        canvas = Image.new("RGB", plan.canvas, (255, 255, 255))
    else:
        canvas = Image.new("RGBA", plan.canvas, (0, 0, 0, 0))
    offset = ((plan.canvas[0] - image.width) // 2, (plan.canvas[1] - image.height) // 2)
    canvas.paste(image, offset)
    return canvas


def finish(
    image: Image.Image,
    decoded: Image.Image,
    *,
    plan: Geometry,
    output_format: str,
) -> Image.Image:
    """Pad a resized, sRGB frame to its canvas and detach it from the decoder and its metadata."""
    image = pad(image, plan, output_format)
    if image is decoded:  # nothing changed the pixels: detach from the decoder, which moves to the next frame
        image = image.copy()
    image.info = {}
    return image


def render_frame(
    image: Image.Image,
    *,
    plan: Geometry,
    orientation: int,
    profile: bytes | None,
    cmyk_profile: bytes,
    output_format: str,
    notes: list[str],
) -> Image.Image:
    """Turn one decoded frame into the output frame: orient, normalise, resize, colour, pad."""
    decoded = image
    image = resize(upright(image, orientation), plan)
    image = to_srgb(image, profile, cmyk_profile, notes)
    return finish(image, decoded, plan=plan, output_format=output_format)
