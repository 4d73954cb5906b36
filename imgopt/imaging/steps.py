"""Pixel steps on one decoded frame: mode, orientation, resize, colour and padding.

Each step is a small function of an image and the facts it needs; the one orchestrator (pipeline.py) runs
them for every rendition.
"""

from __future__ import annotations

from PIL import Image

from imgopt.imaging import geometry
from imgopt.imaging.colour import normalise_mode, to_srgb
from imgopt.imaging.describe import attention
from imgopt.imaging.geometry import Geometry, Grid

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


def resize(image: Image.Image, plan: Geometry, grid: Grid | None = None) -> Image.Image:
    """Scale (and for a crop or a cover window, cut) to the planned size.

    ``image`` is the whole upright source, decoded at the scale ``grid`` describes (a JPEG draft decode is
    smaller than the source): the plan's region, in source pixels, is mapped onto it, so cropping keeps
    draft decoding and Lanczos sees only the region (its ``box`` argument).
    """
    target = plan.resized
    if plan.crop_box is None:
        if image.size == target:
            return image
        return image.resize(target, RESAMPLE, reducing_gap=REDUCING_GAP)
    box = (grid or Grid()).map_box(plan.crop_box)
    whole = tuple(round(edge) for edge in box)
    if whole == box and (whole[2] - whole[0], whole[3] - whole[1]) == target:
        return image.crop(whole)  # a plain cut at full scale: nothing to resample
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


def place_smart_window(
    base: Image.Image,
    plan: Geometry,
    grid: Grid,
    *,
    profile: bytes | None,
    cmyk_profile: bytes,
    notes: list[str],
) -> Geometry:
    """Move a gravity=smart cover window onto what draws the eye in ``base`` (the upright decode).

    Never fails a request: when the attention map cannot decide, or anything goes wrong, the window stays
    centred.
    """
    if plan.smart_region is None:
        return plan
    try:
        region = grid.map_box(plan.smart_region)
        proxy = base.resize(attention.PROXY_SIZE, RESAMPLE, box=region, reducing_gap=2.0)
        point = attention.interesting_point(to_srgb(proxy, profile, cmyk_profile, []), plan.window_fraction)
    except Exception:
        notes.append("smart_crop_fell_back_to_centre")
        return plan
    return geometry.place(plan, point)


def render_frame(
    base: Image.Image,
    decoded: Image.Image,
    *,
    plan: Geometry,
    grid: Grid,
    profile: bytes | None,
    cmyk_profile: bytes,
    output_format: str,
    notes: list[str],
) -> Image.Image:
    """Turn one upright decoded frame into the output frame: resize (and cut), colour, pad."""
    image = resize(base, plan, grid)
    image = to_srgb(image, profile, cmyk_profile, notes)
    return finish(image, decoded, plan=plan, output_format=output_format)
