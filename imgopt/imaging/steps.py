"""The frame steps: the one list every output frame is made by, and the one function that runs it.

Each step belongs to a phase, and the phases follow one another in ``FRAME_STEPS``:

- ``DECODE``: once per decoded frame: the working mode, turned upright (``upright``);
- ``FRAMING``: once per geometry, on the upright decode: where a gravity=smart window sits (it plans, it
  does not touch pixels; an animation keeps the window its first frame chose);
- ``RESIZE``: the resize to the geometry. A smaller rendition may start from a larger one's frame after
  this phase (imgopt/imaging/intermediates.py) and run it again with another grid;
- ``GEOMETRY``: the rest that depends only on the geometry (sRGB), shared by the outputs of that size;
- ``CANVAS``: the output's canvas: flattened onto its background, padded to its box (what the operations
  see, as spatie/image's do after a Fit::Fill);
- ``OPERATIONS``: the caller's operations, in order (imgopt/imaging/operations/); outputs with the same
  canvas and operations share these two phases' result;
- ``OUTPUT``: per output (a frame of its own).

A still runs the phases at the places it shares them (one decode, one resize per geometry, the outputs), a
chained rendition from ``RESIZE`` on its parent's resize, an animation frame all of them in turn; all of them
through ``run_steps``. A new step is one function here and one line in ``FRAME_STEPS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import IntEnum

from PIL import Image

from imgopt.imaging import geometry, operations, smart_crop
from imgopt.imaging.colour import normalise_mode, to_srgb
from imgopt.imaging.geometry import Geometry, Grid
from imgopt.imaging.operations import Assets
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


class Phase(IntEnum):
    """Where a step's result is shared, in the order the phases run."""

    DECODE = 1
    FRAMING = 2
    RESIZE = 3
    GEOMETRY = 4
    CANVAS = 5
    OPERATIONS = 6
    OUTPUT = 7


@dataclass(frozen=True)
class FrameJob:
    """What the steps need to know to make one rendition's frame from a decoded frame."""

    # The EXIF orientation the decoded frame is turned upright by.
    orientation: int
    # How upright source coordinates map onto the image the resize step starts from (a reduced decode, or a
    # larger rendition's resize).
    grid: Grid
    # The source's ICC profile (None: sRGB), and the one assumed for CMYK without one.
    profile: bytes | None
    cmyk_profile: bytes
    notes: list[str]
    # From FRAMING on: the rendition's geometry.
    plan: Geometry | None = None
    # For the per-output steps: the output's options, and the decoder's own frame, which the output must not
    # share.
    options: ConvertOptions | None = None
    decoded: Image.Image | None = None
    # What the set's operations need besides the frame (a decoded watermark), made once for the set.
    assets: Assets = field(default_factory=dict)

    @property
    def output_format(self) -> str:
        return self.options.format if self.options is not None else ""

    @property
    def geometry(self) -> Geometry:
        assert self.plan is not None, "a step past DECODE needs the rendition's geometry"
        return self.plan

    def for_plan(self, plan: Geometry) -> FrameJob:
        """This decode's job for one geometry."""
        return replace(self, plan=plan)

    def for_output(self, options: ConvertOptions, decoded: Image.Image | None) -> FrameJob:
        """This job for one output of the geometry."""
        return replace(self, options=options, decoded=decoded)


@dataclass(frozen=True)
class FrameStep:
    """One step of ``FRAME_STEPS``: a function of the frame so far and the job, in its phase. A step that
    ``plans`` returns the job it decides instead of a frame."""

    apply: Callable[[Image.Image, FrameJob], Image.Image | FrameJob]
    phase: Phase
    plans: bool = False

    @property
    def name(self) -> str:
        return self.apply.__name__


def upright(image: Image.Image, job: FrameJob) -> Image.Image:
    """DECODE: a decoded frame in a working mode and turned upright: what every rendition starts from."""
    return turn_upright(image, job.orientation)


def turn_upright(image: Image.Image, orientation: int) -> Image.Image:
    """A decoded frame in a working mode, rotated or flipped as its EXIF orientation says."""
    return apply_orientation(normalise_mode(image), orientation)


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Rotate or flip so the image is upright, as its EXIF orientation says."""
    for method in TRANSPOSE_FOR_ORIENTATION.get(orientation, ()):
        image = image.transpose(method)
    return image


def place_smart_window(base: Image.Image, job: FrameJob) -> FrameJob:
    """FRAMING: move a gravity=smart cover window onto what draws the eye in ``base`` (the upright decode).

    Never fails a request: when the attention map cannot decide, or anything goes wrong, the window stays
    centred. Either way the window is then placed, and later frames of an animation keep it.
    """
    plan = job.geometry
    if plan.smart_region is None:
        return job
    try:
        region = job.grid.map_box(plan.smart_region)
        proxy = base.resize(smart_crop.PROXY_SIZE, RESAMPLE, box=region, reducing_gap=2.0)
        point = smart_crop.interesting_point(
            to_srgb(proxy, job.profile, job.cmyk_profile, []), plan.window_fraction
        )
    except Exception:
        job.notes.append("smart_crop_fell_back_to_centre")
        point = None
    return job.for_plan(replace(geometry.place(plan, point), smart_region=None))


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
    """RESIZE: resize (and cut) to the job's plan."""
    return resize(image, job.geometry, job.grid)


def convert_to_srgb(image: Image.Image, job: FrameJob) -> Image.Image:
    """GEOMETRY: pixels in sRGB through the source's profile (imgopt/imaging/colour.py)."""
    return to_srgb(image, job.profile, job.cmyk_profile, job.notes)


def flatten_onto_background(image: Image.Image, job: FrameJob) -> Image.Image:
    """CANVAS: with a background colour, transparency composited onto it (and none left)."""
    background = job.options.background if job.options is not None else None
    if background is None or image.mode != "RGBA":
        return image
    flattened = Image.new("RGB", image.size, background)
    flattened.paste(image, mask=image.getchannel("A"))
    return flattened


def pad_to_canvas(image: Image.Image, job: FrameJob) -> Image.Image:
    """CANVAS: the output's exact canvas (fit=contain), in the background colour, else transparent (white
    behind JPEG)."""
    background = job.options.background if job.options is not None else None
    return pad(image, job.geometry, job.output_format, background)


def apply_operations(image: Image.Image, job: FrameJob) -> Image.Image:
    """OPERATIONS: the caller's operations, in the order it listed them."""
    if job.options is None or not job.options.operations:
        return image
    return operations.apply(image, job.options.operations, job.assets)


def detach(image: Image.Image, job: FrameJob) -> Image.Image:
    """OUTPUT: a frame of its own, with no metadata: never the decoder's frame, which moves on to the next
    frame or is freed."""
    if image is job.decoded:
        image = image.copy()
    image.info = {}
    return image


# Every output frame is made by these, in this order, the phases one after another (tests/test_steps.py).
FRAME_STEPS: tuple[FrameStep, ...] = (
    FrameStep(upright, Phase.DECODE),
    FrameStep(place_smart_window, Phase.FRAMING, plans=True),
    FrameStep(resize_to_plan, Phase.RESIZE),
    FrameStep(convert_to_srgb, Phase.GEOMETRY),
    FrameStep(flatten_onto_background, Phase.CANVAS),
    FrameStep(pad_to_canvas, Phase.CANVAS),
    FrameStep(apply_operations, Phase.OPERATIONS),
    FrameStep(detach, Phase.OUTPUT),
)


def output_key(options: ConvertOptions) -> tuple:
    """Outputs of one geometry with the same key share their frame after CANVAS and OPERATIONS: the same
    background (white padding behind a JPEG's) and the same operations."""
    white = options.format == "jpeg" and options.background is None
    return options.background, white, options.operations


def run_steps(
    image: Image.Image, job: FrameJob, phases: Iterable[Phase], steps: tuple[FrameStep, ...] = FRAME_STEPS
) -> tuple[Image.Image, FrameJob]:
    """Run the steps of ``phases`` on ``image``, in the list's order: the frame, and the job as the framing
    steps left it."""
    wanted = set(phases)
    for step in steps:
        if step.phase not in wanted:
            continue
        made = step.apply(image, job)
        if step.plans:
            assert isinstance(made, FrameJob)
            job = made
        else:
            assert isinstance(made, Image.Image)
            image = made
    return image, job
