"""The pixel steps, and the one list of them that makes every output frame.

``upright`` turns a decoded frame into the upright working image every rendition starts from. Then each
rendition's frame goes through ``FRAME_STEPS`` in order, by ``render_frame``: for a still, a rendition made
from a larger one's resize (imgopt/imaging/intermediates.py) and every frame of an animation alike. A new
step (sharpen, watermark) is one function here and one line in ``FRAME_STEPS``.

Steps that depend only on the geometry are made once and shared by the formats of that geometry (a WebP and
an AVIF of one size); steps marked ``per_output`` run for each output format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from PIL import Image

from imgopt.imaging import geometry
from imgopt.imaging.colour import normalise_mode, to_srgb
from imgopt.imaging.describe import attention
from imgopt.imaging.geometry import Geometry, Grid
from imgopt.imaging.options import ConvertOptions

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


@dataclass(frozen=True)
class FrameJob:
    """What the steps need to know to make one rendition's frame from an upright frame."""

    plan: Geometry
    # How upright source coordinates map onto the image the first step resizes (a reduced decode, or a
    # larger rendition's resize).
    grid: Grid
    # The source's ICC profile (None: sRGB), and the one assumed for CMYK without one.
    profile: bytes | None
    cmyk_profile: bytes
    notes: list[str]
    # For the per-output steps: the output's options, and the decoder's own frame, which the output must not
    # share.
    options: ConvertOptions | None = None
    decoded: Image.Image | None = None

    @property
    def output_format(self) -> str:
        return self.options.format if self.options is not None else ""

    def for_output(self, options: ConvertOptions, decoded: Image.Image | None) -> FrameJob:
        """This job for one output of the geometry."""
        return replace(self, options=options, decoded=decoded)


@dataclass(frozen=True)
class FrameStep:
    """One step of ``FRAME_STEPS``: a function of the frame so far and the job."""

    apply: Callable[[Image.Image, FrameJob], Image.Image]
    # Depends on the output format: run once per output rather than once per geometry.
    per_output: bool = False

    def __call__(self, image: Image.Image, job: FrameJob) -> Image.Image:
        return self.apply(image, job)


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """A decoded frame in a working mode and turned upright: what every rendition starts from."""
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


def pad(
    image: Image.Image, plan: Geometry, output_format: str, background: tuple[int, int, int] | None = None
) -> Image.Image:
    """For fit=contain, centre the image on the exact box: the background colour, else transparent (white for
    JPEG)."""
    if image.size == plan.canvas:
        return image
    if background is not None:
        canvas = Image.new("RGB", plan.canvas, background)
    elif output_format == "jpeg":
        canvas = Image.new("RGB", plan.canvas, (255, 255, 255))
    else:
        canvas = Image.new("RGBA", plan.canvas, (0, 0, 0, 0))
    offset = ((plan.canvas[0] - image.width) // 2, (plan.canvas[1] - image.height) // 2)
    canvas.paste(image, offset)
    return canvas


def resize_to_plan(image: Image.Image, job: FrameJob) -> Image.Image:
    """The frame step: resize (and cut) to the job's plan."""
    return resize(image, job.plan, job.grid)


def convert_to_srgb(image: Image.Image, job: FrameJob) -> Image.Image:
    """The frame step: pixels in sRGB through the source's profile (imgopt/imaging/colour.py)."""
    return to_srgb(image, job.profile, job.cmyk_profile, job.notes)


def flatten_onto_background(image: Image.Image, job: FrameJob) -> Image.Image:
    """The frame step: with a background colour, transparency composited onto it (and none left)."""
    background = job.options.background if job.options is not None else None
    if background is None or image.mode != "RGBA":
        return image
    flattened = Image.new("RGB", image.size, background)
    flattened.paste(image, mask=image.getchannel("A"))
    return flattened


def pad_to_canvas(image: Image.Image, job: FrameJob) -> Image.Image:
    """The frame step: the output's exact canvas (fit=contain), in the background colour, else transparent
    (white behind JPEG)."""
    background = job.options.background if job.options is not None else None
    return pad(image, job.plan, job.output_format, background)


def detach(image: Image.Image, job: FrameJob) -> Image.Image:
    """The frame step: a frame of its own, with no metadata: never the decoder's frame, which moves on to the
    next frame or is freed."""
    if image is job.decoded:
        image = image.copy()
    image.info = {}
    return image


# Every output frame is made by these, in order. The first is the resize: a rendition made from a larger
# one's resize starts from that step's result (``RESIZE_STEPS``).
FRAME_STEPS: tuple[FrameStep, ...] = (
    FrameStep(resize_to_plan),
    FrameStep(convert_to_srgb),
    FrameStep(flatten_onto_background, per_output=True),
    FrameStep(pad_to_canvas, per_output=True),
    FrameStep(detach, per_output=True),
)

# The steps made once per geometry and shared by its formats, then those made per output.
GEOMETRY_STEPS = tuple(step for step in FRAME_STEPS if not step.per_output)
OUTPUT_STEPS = FRAME_STEPS[len(GEOMETRY_STEPS) :]
# What a smaller rendition may be made from: the geometry's frame after the resize, before any other step.
RESIZE_STEPS, AFTER_RESIZE_STEPS = GEOMETRY_STEPS[:1], GEOMETRY_STEPS[1:]
if any(not step.per_output for step in OUTPUT_STEPS):
    msg = "FRAME_STEPS: a shared step after a per-output one would be run once per output"
    raise AssertionError(msg)


def render_frame(image: Image.Image, job: FrameJob, steps: Sequence[FrameStep] = FRAME_STEPS) -> Image.Image:
    """Run ``steps`` (every frame step unless told) on one upright frame, in order."""
    for step in steps:
        image = step(image, job)
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
