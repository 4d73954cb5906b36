"""The one orchestrator: one upload in, a set of renditions (and the source's facts and placeholder) out.

Pure by design: no Flask, no logging, no environment. ``/convert`` is a set of one unnamed rendition without
the placeholder work, ``/variants`` a set of many, ``/info`` a set of none. Each step is a small function in
its own module (source, limits, geometry, steps, colour, encode), tested and benchmarked alone; this module
runs them in order::

    open -> survey -> check source -> plan -> check outputs -> group by decode -> check budgets
         -> per decode: draft, decode, upright, [describe], smart window, resize, sRGB, finish, encode

Renditions share everything that is the same: the upload, the header parse, one decode per distinct scale
(JPEG's 1/2, 1/4, 1/8 DCT scaling; a rendition uses the scale a conversion of it alone would use), one
resize and colour conversion per distinct geometry (a WebP and an AVIF of the same size share it), the
resize of a larger rendition as the source of one well below it (imgopt/imaging/intermediates.py: the rule
that keeps it as faithful as /convert's), and the placeholder, which reuses a decode when one is at its
scale. Each decode is released after its last resize, so memory peaks at what the largest single
conversion would need, plus the encoded outputs held for the response.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from PIL import Image

from imgopt.errors import ClientGone, ImageTooLarge, InvalidOption
from imgopt.imaging import geometry, intermediates
from imgopt.imaging.buffer import Buffer
from imgopt.imaging.codecs import MEDIA_TYPES, Frame
from imgopt.imaging.colour import to_srgb
from imgopt.imaging.describe.facts import SourceFacts, has_transparency
from imgopt.imaging.describe.placeholder import PROXY_SIDE, Placeholder, make_proxy, placeholder
from imgopt.imaging.encode import encode_output
from imgopt.imaging.geometry import Box, Geometry
from imgopt.imaging.limits import (
    ALPHA_MODES,
    check_encode_time,
    check_memory,
    check_output_size,
    check_source_size,
    estimate_encode_seconds,
)
from imgopt.imaging.options import ConvertOptions, with_default_quality
from imgopt.imaging.parallel import Borrow, TaskRunner, lend_none
from imgopt.imaging.settings import PipelineSettings
from imgopt.imaging.source import (
    DRAFT_FORMATS,
    apply_draft,
    count_frames,
    decode_frames,
    loop_count,
    open_image,
    oriented_size,
    read_orientation,
)
from imgopt.imaging.steps import finish, place_smart_window, resize, upright

__all__ = [
    "ConvertOptions",
    "PipelineSettings",
    "Rendition",
    "RenditionSet",
    "convert",
    "describe",
    "render_set",
]

# Asked between the expensive steps: is anyone still waiting for the result?
StillWanted = Callable[[], bool] | None

# Encoders that can use more than one thread for one image (libaom's row and tile threads).
THREADED_ENCODERS = ("avif",)

# Decodes go before any resize or encode when threads are lent: they are short and every rendition waits for
# one (the placeholder's 1/8 decode, left to the end, made the set's last task).
DECODE_FIRST = float("inf")

# Output formats that hold one frame: an animated source gives them its first.
STILL_FORMATS = ("jpeg",)

# The box the placeholder's decode must cover: JPEG is decoded at 1/8 for it.
PLACEHOLDER_BOX = (PROXY_SIDE, PROXY_SIDE)


@dataclass(frozen=True)
class Rendition:
    """One encoded output: the only output type the pipeline has."""

    # The caller's name for it ("" for the single output of /convert).
    name: str
    data: bytes
    format: str
    width: int
    height: int
    frames: int
    # The encoder quality used (None for lossless outputs), and with quality=auto the SSIMULACRA2 reached.
    quality: int | None = None
    score: float | None = None
    # The region of the upright source it shows (source pixels): a crop or a cover window; None for all.
    crop_box: Box | None = None

    @property
    def media_type(self) -> str:
        """The Content-Type of ``data``."""
        return MEDIA_TYPES[self.format]


@dataclass(frozen=True)
class RenditionSet:
    """A set's outputs in request order, with the source's facts and (when described) its placeholder."""

    source: SourceFacts
    placeholder: Placeholder | None
    renditions: tuple[Rendition, ...]
    # Size of each decode made, largest first (JPEG decodes at reduced scales).
    decoded_sizes: tuple[tuple[int, int], ...] = ()
    # Per rendition, in request order: the size of the image it was resized from (its decode, or the
    # intermediate of a larger rendition).
    resized_from: tuple[tuple[int, int], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def rendition(self) -> Rendition:
        """The one rendition of a single conversion."""
        (only,) = self.renditions
        return only


def convert(
    data: Buffer,
    options: ConvertOptions,
    settings: PipelineSettings,
    *,
    still_wanted: StillWanted = None,
    borrow: Borrow = lend_none,
) -> RenditionSet:
    """/convert: a set of one unnamed rendition, without the placeholder work."""
    return render_set(
        data, [("", options)], settings, describe=False, still_wanted=still_wanted, borrow=borrow
    )


def describe(data: Buffer, settings: PipelineSettings, *, still_wanted: StillWanted = None) -> RenditionSet:
    """/info: the source's facts and placeholder alone, decoding no more than the placeholder needs."""
    return render_set(data, (), settings, still_wanted=still_wanted)


@dataclass(frozen=True)
class _Survey:
    """What the header says, before any pixel is decoded."""

    format: str
    size: tuple[int, int]
    mode: str
    frames: int
    orientation: int

    @property
    def upright_size(self) -> tuple[int, int]:
        return oriented_size(self.size, self.orientation)


@dataclass
class _Wanted:
    """One requested rendition while the set is being made."""

    index: int
    name: str
    options: ConvertOptions
    plan: Geometry
    frame_count: int
    frames: list[Frame] = field(default_factory=list)


@dataclass
class _DecodeGroup:
    """Everything made from one decode: a box it must cover, and what is made from it."""

    box: tuple[int, int]
    size: tuple[int, int]
    wanted: list[_Wanted] = field(default_factory=list)
    makes_placeholder: bool = False

    @property
    def frame_count(self) -> int:
        return max([1, *(item.frame_count for item in self.wanted)])


def render_set(
    data: Buffer,
    requests: Sequence[tuple[str, ConvertOptions]],
    settings: PipelineSettings,
    *,
    describe: bool = True,
    still_wanted: StillWanted = None,
    borrow: Borrow = lend_none,
) -> RenditionSet:
    """Make every requested (name, options) rendition of one upload; with ``describe``, also the source's
    transparency and placeholder (a small decode of their own when no rendition is that small).

    ``still_wanted`` is asked before each decode and each encode; once it says no, ClientGone is raised
    and nothing more is made. ``borrow`` lends threads for idle cores: renditions then run side by side
    (a single AVIF rendition gives them to its encoder), never more than ``settings.rendition_threads``,
    the renditions, or what the memory budget allows."""
    notes: list[str] = []
    requests = [(name, with_default_quality(options, settings.default_quality)) for name, options in requests]
    with open_image(data) as header:
        survey = _survey(header, data, requests, settings, describe=describe, notes=notes)
        frame_counts = [_frames_for(options, survey) for _name, options in requests]
        check_source_size(header.size, max([1, *frame_counts]), settings)
        wanted = [
            _Wanted(index, name, options, _plan(name, survey, options), frames)
            for index, ((name, options), frames) in enumerate(zip(requests, frame_counts, strict=True))
        ]
        for item in wanted:
            check_output_size(item.plan, item.options)
        groups = _decode_groups(data, header, wanted, survey.orientation, describe)
        threads = _check_budgets(survey, groups[0].size, wanted, settings)
        making = _Making(
            data, survey, settings, notes, [None] * len(wanted), [None] * len(wanted), still_wanted
        )
        # Formats without reduced decoding have one group, decoded from the header's own image: reading the
        # orientation of a PNG may already have decoded it (its EXIF can follow the pixels).
        reuse_header = header.format not in DRAFT_FORMATS
        with borrow(threads - 1) as lent:
            single_encoder = len(wanted) == 1 and wanted[0].options.format in THREADED_ENCODERS
            if single_encoder:  # one rendition: its encoder gets the lent cores
                making.encoder_threads = 1 + lent
            runner = TaskRunner(1 if single_encoder else 1 + lent)
            making.parallel = runner.threads > 1
            runner.run(
                [partial(making.render, runner, group, header if reuse_header else None) for group in groups],
                [DECODE_FIRST] * len(groups),
            )
    facts = SourceFacts(
        format=survey.format.lower(),
        width=survey.upright_size[0],
        height=survey.upright_size[1],
        frames=survey.frames,
        animated=survey.frames > 1,
        has_alpha=making.has_alpha,
    )
    return RenditionSet(
        source=facts,
        placeholder=making.placeholder,
        renditions=tuple(result for result in making.results if result is not None),
        decoded_sizes=tuple(group.size for group in groups),
        resized_from=tuple(size for size in making.resized_from if size is not None),
        notes=tuple(dict.fromkeys(notes)),
    )


def _survey(
    header: Image.Image,
    data: Buffer,
    requests: Sequence[tuple[str, ConvertOptions]],
    settings: PipelineSettings,
    *,
    describe: bool,
    notes: list[str],
) -> _Survey:
    """Format, size, frames and orientation from the header; frames are counted only when something
    wants them (an animated output, or the source's facts)."""
    animated = describe or any(options.animated for _name, options in requests)
    frames = count_frames(header, data, animated, settings)
    return _Survey(
        format=header.format or "unknown",
        size=header.size,
        mode=header.mode,
        frames=frames,
        orientation=read_orientation(header, notes),
    )


def _frames_for(options: ConvertOptions, survey: _Survey) -> int:
    """Frames a rendition is made of: every frame for an animated output, else the first (JPEG has one)."""
    return survey.frames if options.animated and options.format not in STILL_FORMATS else 1


def _plan(name: str, survey: _Survey, options: ConvertOptions) -> Geometry:
    """The rendition's geometry; a crop that does not fit names the rendition, when it has a name."""
    try:
        return geometry.plan(survey.upright_size, options)
    except InvalidOption as error:
        if not name:
            raise
        msg = f"variant {name!r}: {error.message}"
        raise InvalidOption(error.field, msg) from None


def _check_budgets(
    survey: _Survey, largest_decode: tuple[int, int], wanted: list[_Wanted], settings: PipelineSettings
) -> int:
    """Pixel memory and encode time, summed over the renditions, before anything is decoded; the threads
    the memory budget allows (renditions encoded at once each need their encoder's memory)."""
    output_pixels = sum(item.plan.canvas[0] * item.plan.canvas[1] * item.frame_count for item in wanted)
    scored = sorted(
        (item.plan.canvas[0] * item.plan.canvas[1] for item in wanted if item.options.auto_quality),
        reverse=True,
    )
    largest = sorted((item.plan.canvas[0] * item.plan.canvas[1] for item in wanted), reverse=True)
    memory = partial(check_memory, survey.format, survey.mode, largest_decode, output_pixels, settings)
    memory(scored_pixels=scored[0] if scored else 0)
    check_encode_time(((item.plan, item.frame_count, item.options) for item in wanted), settings)
    # Renditions run side by side; a single AVIF rendition's encoder runs on the threads instead.
    alone = len(wanted) == 1 and wanted[0].options.format in THREADED_ENCODERS
    parallel = settings.rendition_threads if alone else min(settings.rendition_threads, len(wanted))
    for threads in range(parallel, 1, -1):
        try:
            memory(scored_pixels=sum(scored[:threads]), in_flight_pixels=sum(largest[1:threads]))
        except ImageTooLarge:
            continue
        return threads
    return 1


def _decode_groups(
    data: Buffer, header: Image.Image, wanted: list[_Wanted], orientation: int, describe: bool
) -> list[_DecodeGroup]:
    """Group the renditions (and the placeholder) by the size their decode has, largest first.

    JPEG can be decoded at reduced scales; a rendition uses the scale /convert would use for it, so its
    pixels match. Other formats decode at full size, once.
    """
    boxes: dict[tuple[int, int], list[_Wanted]] = {}
    for item in wanted:
        boxes.setdefault(item.plan.scaled_source, []).append(item)
    if describe:
        boxes.setdefault(PLACEHOLDER_BOX, [])
    groups: dict[tuple[int, int], _DecodeGroup] = {}
    for box, items in sorted(boxes.items(), key=lambda entry: entry[0][0] * entry[0][1], reverse=True):
        size = _decoded_size(data, header, box, orientation)
        group = groups.setdefault(size, _DecodeGroup(box, size))
        group.wanted.extend(items)
        if describe and box == PLACEHOLDER_BOX:
            group.makes_placeholder = True
    return sorted(groups.values(), key=lambda group: group.size[0] * group.size[1], reverse=True)


def _decoded_size(
    data: Buffer, header: Image.Image, box: tuple[int, int], orientation: int
) -> tuple[int, int]:
    """The size a decode that must cover ``box`` (upright pixels) has; only JPEG and HEIF decode smaller."""
    if header.format not in DRAFT_FORMATS:
        return header.size
    with open_image(data) as probe:
        apply_draft(probe, box, orientation)
        return probe.size


@dataclass
class _Making:
    """The state of one set while its decode groups are rendered."""

    data: Buffer
    survey: _Survey
    settings: PipelineSettings
    notes: list[str]
    results: list[Rendition | None]
    resized_from: list[tuple[int, int] | None]
    still_wanted: StillWanted = None
    # Threads each encoder may use: more than one only for a single rendition on lent cores.
    encoder_threads: int = 1
    # Renditions are made on several threads at once.
    parallel: bool = False
    placeholder: Placeholder | None = None
    has_alpha: bool | None = None

    def check_still_wanted(self) -> None:
        """Raise ClientGone when nobody waits for what is being made."""
        if self.still_wanted is not None and not self.still_wanted():
            msg = "the client closed the connection; the rest of the request was not made"
            raise ClientGone(msg)

    def render(self, runner: TaskRunner, group: _DecodeGroup, opened: Image.Image | None = None) -> None:
        """Decode once at the group's scale (from ``opened`` when given, else a fresh open of the upload) and
        make every rendition in it: a still image hands each geometry's resize to ``runner`` as a task of its
        own (which hands on its encodes), an animation is made here, frame by frame."""
        self.check_still_wanted()
        by_plan: dict[Geometry, list[_Wanted]] = {}
        for item in sorted(group.wanted, key=lambda item: item.plan.canvas[0] * item.plan.canvas[1]):
            by_plan.setdefault(item.plan, []).append(item)
        source = opened or open_image(self.data)
        if group.frame_count > 1:
            with source:
                self._render_frames(group, source, by_plan)
            for item in group.wanted:
                self.resized_from[item.index] = oriented_size(group.size, self.survey.orientation)
            return
        try:
            decoded = _Decoded.of(source, group, self.survey, self.settings, self.notes)
        except BaseException:
            source.close()
            raise
        if group.makes_placeholder:
            self._describe(decoded.base, decoded.profile)
        # Smart windows are chosen on the decode, before any rendition is made from it.
        shared = [_SharedResize(decoded, decoded.place(plan), items) for plan, items in by_plan.items()]
        _link_intermediates(shared, decoded.base)
        for geometry_resize in shared:
            made_from = geometry_resize.parent.final.resized if geometry_resize.parent else decoded.base.size
            for item in geometry_resize.items:
                self.resized_from[item.index] = made_from
        roots = [resize for resize in shared if resize.parent is None]
        decoded.resizes_left = len(roots)
        if not shared:
            decoded.release()
        self._submit_resizes(runner, roots)

    def _submit_resizes(self, runner: TaskRunner, resizes: list[_SharedResize]) -> None:
        """Each geometry's resize as a task of its own, weighed by the encodes it leads to."""
        runner.submit_all(
            [partial(self._resize, runner, resize) for resize in resizes],
            [self._work_after(resize) for resize in resizes],
        )

    def _resize(self, runner: TaskRunner, resize: _SharedResize) -> None:
        """Make a geometry's resize, then hand on its encodes and the resizes made from it."""
        resize.make()
        items = sorted(resize.items, key=self._encode_work, reverse=True)
        runner.submit_all(
            [partial(self._make_still, resize, item) for item in items],
            [self._encode_work(item) for item in items],
        )
        self._submit_resizes(runner, resize.children)

    def _work_after(self, resize: _SharedResize) -> float:
        """Estimated encode seconds of a resize's renditions and of the resizes made from it."""
        own = sum(self._encode_work(item) for item in resize.items)
        return own + sum(self._work_after(child) for child in resize.children)

    def _encode_work(self, item: _Wanted) -> float:
        return estimate_encode_seconds(item.plan, 1, item.options, self.settings)

    def _make_still(self, resize: _SharedResize, item: _Wanted) -> None:
        """One rendition of a still image: its geometry's shared resize, finished for its format, encoded."""
        shared = resize.image
        frame = finish(shared, resize.decoded.image, plan=item.plan, output_format=item.options.format)
        last = resize.done()
        if frame is shared and not last and self.parallel:
            # Pillow's save writes its options onto the image object: two encoders saving one object at once
            # would read each other's (an AVIF made with the WebP's quality). Each gets an object of its own.
            frame = frame.copy()
        self.check_still_wanted()
        item.frames.append(Frame(frame, 0))
        self.results[item.index] = _encode(
            item, resize.final, resize.decoded.loop, self.settings, threads=self.encoder_threads
        )
        item.frames.clear()

    def _render_frames(
        self, group: _DecodeGroup, source: Image.Image, by_plan: dict[Geometry, list[_Wanted]]
    ) -> None:
        """An animation: every frame decoded in turn, resized for each geometry and kept until the
        rendition's last frame, then encoded."""
        orientation = self.survey.orientation
        cmyk_profile = self.settings.cmyk_profile
        grid = _drafted_grid(source, group, self.survey)
        profile = source.info.get("icc_profile")
        placed: dict[Geometry, Geometry] = {}
        for frame_index, (image, duration) in enumerate(decode_frames(source, group.frame_count)):
            base = upright(image, orientation)
            if frame_index == 0:
                if group.makes_placeholder:
                    self._describe(base, profile)
                # Smart windows are chosen on the first frame; an animation keeps them.
                placed = {
                    plan: place_smart_window(
                        base, plan, grid, profile=profile, cmyk_profile=cmyk_profile, notes=self.notes
                    )
                    for plan in by_plan
                }
            for plan, items in by_plan.items():
                live = [item for item in items if frame_index < item.frame_count]
                if not live:
                    continue
                final = placed[plan]
                resized = to_srgb(resize(base, final, grid), profile, cmyk_profile, self.notes)
                frames = [
                    finish(resized, image, plan=plan, output_format=item.options.format) for item in live
                ]
                del resized
                for item, frame in zip(live, frames, strict=True):
                    item.frames.append(Frame(frame, duration))
                    if frame_index == item.frame_count - 1:
                        self.check_still_wanted()
                        self.results[item.index] = _encode(item, final, loop_count(source), self.settings)
                        item.frames.clear()
                del frames

    def _describe(self, base: Image.Image, profile: bytes | None) -> None:
        """The source's transparency and placeholder, from the first frame of the group's decode."""
        self.has_alpha = has_transparency(base)
        proxy = to_srgb(make_proxy(base), profile, self.settings.cmyk_profile, self.notes)
        self.placeholder = placeholder(proxy)


def _drafted_grid(source: Image.Image, group: _DecodeGroup, survey: _Survey) -> geometry.Grid:
    """Set the decoder to the group's scale; the grid of its upright decode on the upright source."""
    apply_draft(source, group.box, survey.orientation)
    decoded = oriented_size(source.size, survey.orientation)
    return geometry.grid(survey.upright_size, decoded, survey.orientation)


def _link_intermediates(shared: list[_SharedResize], decoded: Image.Image) -> None:
    """Point each geometry's resize at the larger one it is made from, when intermediates.py allows one."""
    finals = [item.final for item in shared]
    alpha = decoded.mode in ALPHA_MODES
    for child, parent in zip(shared, intermediates.parents(decoded.size, finals, alpha=alpha), strict=True):
        if parent is not None:
            child.parent = shared[parent]
            shared[parent].children.append(child)


@dataclass
class _Decoded:
    """One still decode, upright, shared by the renditions made from it until the last has been resized."""

    source: Image.Image
    image: Image.Image
    base: Image.Image | None
    grid: geometry.Grid
    # The upright source's size, which the decode (and every intermediate) shows whole.
    source_size: tuple[int, int]
    profile: bytes | None
    loop: int
    settings: PipelineSettings
    notes: list[str]
    resizes_left: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(
        cls, source: Image.Image, group: _DecodeGroup, survey: _Survey, settings: PipelineSettings, notes
    ) -> _Decoded:
        grid = _drafted_grid(source, group, survey)
        ((image, _duration),) = decode_frames(source, 1)
        base = upright(image, survey.orientation)
        return cls(
            source,
            image,
            base,
            grid,
            survey.upright_size,
            source.info.get("icc_profile"),
            loop_count(source),
            settings,
            notes,
        )

    def place(self, plan: Geometry) -> Geometry:
        return place_smart_window(
            self.base,
            plan,
            self.grid,
            profile=self.profile,
            cmyk_profile=self.settings.cmyk_profile,
            notes=self.notes,
        )

    def resized(self, final: Geometry) -> tuple[Image.Image, Image.Image]:
        """``final``'s resize as decoded (what smaller renditions are made from) and in sRGB; the decode
        is freed after the last one."""
        raw = resize(self.base, final, self.grid)
        resized = self.in_srgb(raw)
        if resized is self.image:  # nothing changed the pixels: detach them from the decode freed below
            raw = resized = resized.copy()
        with self.lock:
            self.resizes_left -= 1
            if self.resizes_left == 0:
                self.release()
        return raw, resized

    def in_srgb(self, image: Image.Image) -> Image.Image:
        return to_srgb(image, self.profile, self.settings.cmyk_profile, self.notes)

    def release(self) -> None:
        """The decode is no longer needed: free it before the largest encodes."""
        self.base = None
        self.source.close()


@dataclass
class _SharedResize:
    """One geometry's resize, made once by its own task before any of its renditions (a WebP and an AVIF of
    one size) is encoded: from the decode, or from the resize of its ``parent``, a larger rendition, whose
    task runs first and hands this one on."""

    decoded: _Decoded
    final: Geometry
    items: list[_Wanted]
    parent: _SharedResize | None = None
    # Resizes made from this one's pixels (as decoded, before colour), which are kept until the last.
    children: list[_SharedResize] = field(default_factory=list)
    children_left: int = 0
    image: Image.Image | None = None
    raw: Image.Image | None = None
    used: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def make(self) -> None:
        """The resize, in sRGB for the renditions; its pixels as decoded are kept for the children."""
        if self.parent is None:
            raw, self.image = self.decoded.resized(self.final)
        else:
            raw = self.parent.resized_for(self.final)
            self.image = self.decoded.in_srgb(raw)
        self.children_left = len(self.children)
        self.raw = raw if self.children else None

    def resized_for(self, final: Geometry) -> Image.Image:
        """A smaller geometry's resize, made from this one's pixels, which go after the last such."""
        raw = self.raw
        resized = resize(raw, final, intermediates.grid(self.decoded.source_size, raw.size))
        with self.lock:
            self.children_left -= 1
            if self.children_left == 0:
                self.raw = None
        return resized

    def done(self) -> bool:
        """One of its renditions has its frame: the last lets the resize go (and is told it was last)."""
        with self.lock:
            self.used += 1
            if self.used == len(self.items):
                self.image = None
                return True
            return False


def _encode(
    item: _Wanted, final: Geometry, loop: int, settings: PipelineSettings, *, threads: int = 1
) -> Rendition:
    """Encode a rendition's frames as its options ask (``threads`` for an encoder that can use them)."""
    first = item.frames[0].image
    encoded = encode_output(item.frames, loop, item.options, settings, threads=threads)
    return Rendition(
        name=item.name,
        data=encoded.data,
        format=encoded.format,
        width=first.width,
        height=first.height,
        frames=len(item.frames),
        quality=encoded.quality,
        score=encoded.score,
        crop_box=final.crop_box,
    )
