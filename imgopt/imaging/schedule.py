"""Making a set: its decodes, resizes and encodes as tasks, what is shared, and when each thing is released.

The orchestrator (pipeline.py) decides what to make; this module makes it, on the threads it is lent
(imgopt/imaging/parallel.py: one thread runs everything depth first, in order):

- each decode is a task. A still decode is turned upright once; each geometry's resize (shared by the
  formats of that size) is a task of its own, which hands on its encodes, and the resizes made from it;
- a smaller rendition is resized from a larger one's resize where imgopt/imaging/intermediates.py allows;
- an animation is made in its decode's task, frame by frame, each frame through the same steps;
- a decode is released after its last resize, a resize after its last encode and its last child, so memory
  peaks at what the largest single conversion needs, plus the encoded outputs held for the response.

Every frame is made by ``steps.render_frame`` with the one list of steps (imgopt/imaging/steps.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from PIL import Image

from imgopt.errors import ClientGone
from imgopt.imaging import geometry, intermediates
from imgopt.imaging.buffer import Buffer
from imgopt.imaging.codecs import Frame
from imgopt.imaging.colour import to_srgb
from imgopt.imaging.decodes import DecodeGroup, Wanted
from imgopt.imaging.describe.facts import has_transparency
from imgopt.imaging.describe.placeholder import Placeholder, make_proxy, placeholder
from imgopt.imaging.encode import encode_output
from imgopt.imaging.geometry import Geometry
from imgopt.imaging.limits import ALPHA_MODES, estimate_encode_seconds, uses_lent_threads
from imgopt.imaging.outputs import Rendition
from imgopt.imaging.parallel import Borrow, TaskRunner
from imgopt.imaging.settings import PipelineSettings
from imgopt.imaging.source import Survey, apply_draft, decode_frames, loop_count, oriented_size
from imgopt.imaging.steps import (
    AFTER_RESIZE_STEPS,
    GEOMETRY_STEPS,
    OUTPUT_STEPS,
    RESIZE_STEPS,
    FrameJob,
    place_smart_window,
    render_frame,
    upright,
)

# Asked between the expensive steps: is anyone still waiting for the result?
StillWanted = Callable[[], bool] | None

# Decodes go before any resize or encode when threads are lent: they are short and every rendition waits for
# one (the placeholder's 1/8 decode, left to the end, made the set's last task).
DECODE_FIRST = float("inf")


@dataclass
class SetMaker:
    """One set being made: its renditions as they are encoded, and what its decodes told of the source."""

    data: Buffer
    survey: Survey
    settings: PipelineSettings
    notes: list[str]
    wanted: list[Wanted]
    still_wanted: StillWanted = None
    results: list[Rendition | None] = field(default_factory=list)
    # Per rendition: the size of the image it was resized from (its decode, or a larger rendition's resize).
    resized_from: list[tuple[int, int] | None] = field(default_factory=list)
    placeholder: Placeholder | None = None
    has_alpha: bool | None = None
    # Threads each encoder may use: more than one only for a single rendition on lent cores.
    encoder_threads: int = 1
    # Renditions are made on several threads at once.
    parallel: bool = False

    def __post_init__(self) -> None:
        self.results = [None] * len(self.wanted)
        self.resized_from = [None] * len(self.wanted)

    def make(self, groups: list[DecodeGroup], threads: int, borrow: Borrow) -> None:
        """Make every group's renditions on up to ``threads`` threads, as many as ``borrow`` lends."""
        with borrow(threads - 1) as lent:
            if len(self.wanted) == 1 and uses_lent_threads(self.wanted[0].options):
                self.encoder_threads = 1 + lent  # one rendition: its encoder (or search) gets the lent cores
                runner = TaskRunner(1)
            else:
                runner = TaskRunner(1 + lent)
            self.parallel = runner.threads > 1
            runner.run(
                [partial(self._decode, runner, group) for group in groups], [DECODE_FIRST] * len(groups)
            )

    def check_still_wanted(self) -> None:
        """Raise ClientGone when nobody waits for what is being made."""
        if self.still_wanted is not None and not self.still_wanted():
            msg = "the client closed the connection; the rest of the request was not made"
            raise ClientGone(msg)

    def _decode(self, runner: TaskRunner, group: DecodeGroup) -> None:
        """A decode's task: a still hands each geometry's resize to ``runner``; an animation is made here."""
        self.check_still_wanted()
        by_plan: dict[Geometry, list[Wanted]] = {}
        for item in sorted(group.wanted, key=lambda item: item.canvas_pixels):
            by_plan.setdefault(item.plan, []).append(item)
        opened = group.open(self.data)
        if group.frame_count > 1:
            with opened:
                self._animate(group, opened, by_plan)
            for item in group.wanted:
                self.resized_from[item.index] = oriented_size(group.size, self.survey.orientation)
            return
        try:
            decoded = Decoded.of(opened, group, self.survey, self.settings, self.notes)
        except BaseException:
            opened.close()
            raise
        if group.makes_placeholder:
            self._describe(decoded.base, decoded.profile)
        # Smart windows are chosen on the decode, before any rendition is made from it.
        shared = [SharedResize(decoded, decoded.job(plan), items) for plan, items in by_plan.items()]
        _link_intermediates(shared, decoded.base)
        for resize in shared:
            made_from = resize.parent.job.plan.resized if resize.parent else decoded.base.size
            for item in resize.items:
                self.resized_from[item.index] = made_from
        roots = [resize for resize in shared if resize.parent is None]
        decoded.resizes_left = len(roots)
        if not shared:
            decoded.release()
        self._submit_resizes(runner, roots)

    def _submit_resizes(self, runner: TaskRunner, resizes: list[SharedResize]) -> None:
        """Each geometry's resize as a task of its own, weighed by the encodes it leads to."""
        runner.submit_all(
            [partial(self._resize, runner, resize) for resize in resizes],
            [self._work_after(resize) for resize in resizes],
        )

    def _resize(self, runner: TaskRunner, resize: SharedResize) -> None:
        """A resize's task: make it, then hand on its encodes and the resizes made from it."""
        resize.make()
        items = sorted(resize.items, key=self._encode_work, reverse=True)
        runner.submit_all(
            [partial(self._make_still, resize, item) for item in items],
            [self._encode_work(item) for item in items],
        )
        self._submit_resizes(runner, resize.children)

    def _work_after(self, resize: SharedResize) -> float:
        """Estimated encode seconds of a resize's renditions and of the resizes made from it."""
        own = sum(self._encode_work(item) for item in resize.items)
        return own + sum(self._work_after(child) for child in resize.children)

    def _encode_work(self, item: Wanted) -> float:
        return estimate_encode_seconds(item.plan, 1, item.options, self.settings)

    def _make_still(self, resize: SharedResize, item: Wanted) -> None:
        """An encode's task: the geometry's shared frame, through the per-output steps, encoded."""
        shared = resize.image
        job = resize.job.for_output(item.options, resize.decoded.image)
        frame = render_frame(shared, job, OUTPUT_STEPS)
        last = resize.done()
        if frame is shared and not last and self.parallel:
            # Pillow's save writes its options onto the image object: two encoders saving one object at once
            # would read each other's (an AVIF made with the WebP's quality). Each gets an object of its own.
            frame = frame.copy()
        self.check_still_wanted()
        self._encode(item, [Frame(frame, 0)], resize.job.plan, resize.decoded.loop, self.encoder_threads)

    def _animate(
        self, group: DecodeGroup, opened: Image.Image, by_plan: dict[Geometry, list[Wanted]]
    ) -> None:
        """An animation: every frame decoded in turn and made for each geometry through the same steps, kept
        until the rendition's last frame, then encoded."""
        grid = _drafted_grid(opened, group, self.survey)
        profile = opened.info.get("icc_profile")
        cmyk_profile = self.settings.cmyk_profile
        jobs: dict[Geometry, FrameJob] = {}
        frames: dict[int, list[Frame]] = {item.index: [] for item in group.wanted}
        for frame_index, (image, duration) in enumerate(decode_frames(opened, group.frame_count)):
            base = upright(image, self.survey.orientation)
            if frame_index == 0:
                if group.makes_placeholder:
                    self._describe(base, profile)
                # Smart windows are chosen on the first frame; an animation keeps them.
                jobs = {
                    plan: FrameJob(
                        place_smart_window(
                            base, plan, grid, profile=profile, cmyk_profile=cmyk_profile, notes=self.notes
                        ),
                        grid,
                        profile,
                        cmyk_profile,
                        self.notes,
                    )
                    for plan in by_plan
                }
            for plan, items in by_plan.items():
                live = [item for item in items if frame_index < item.frame_count]
                if not live:
                    continue
                job = jobs[plan]
                shared = render_frame(base, job, GEOMETRY_STEPS)
                made = [
                    render_frame(shared, job.for_output(item.options, image), OUTPUT_STEPS) for item in live
                ]
                del shared
                for item, frame in zip(live, made, strict=True):
                    frames[item.index].append(Frame(frame, duration))
                    if frame_index == item.frame_count - 1:
                        self.check_still_wanted()
                        # One encoder thread: libaom's bytes for a sequence depend on its thread count.
                        self._encode(item, frames.pop(item.index), job.plan, loop_count(opened), 1)
                del made

    def _describe(self, base: Image.Image, profile: bytes | None) -> None:
        """The source's transparency and placeholder, from the first frame of the group's decode."""
        self.has_alpha = has_transparency(base)
        proxy = to_srgb(make_proxy(base), profile, self.settings.cmyk_profile, self.notes)
        self.placeholder = placeholder(proxy)

    def _encode(self, item: Wanted, frames: list[Frame], final: Geometry, loop: int, threads: int) -> None:
        """Encode a rendition's frames as its options ask, ``threads`` for an encoder that can use them."""
        first = frames[0].image
        encoded = encode_output(frames, loop, item.options, self.settings, threads=threads)
        self.results[item.index] = Rendition(
            name=item.name,
            data=encoded.data,
            format=encoded.format,
            width=first.width,
            height=first.height,
            frames=len(frames),
            quality=encoded.quality,
            score=encoded.score,
            crop_box=final.crop_box,
        )


def _drafted_grid(opened: Image.Image, group: DecodeGroup, survey: Survey) -> geometry.Grid:
    """Set the decoder to the group's scale; the grid of its upright decode on the upright source."""
    apply_draft(opened, group.box, survey.orientation)
    group.size = opened.size
    decoded = oriented_size(opened.size, survey.orientation)
    return geometry.grid(survey.upright_size, decoded, survey.orientation)


def _link_intermediates(shared: list[SharedResize], decoded: Image.Image) -> None:
    """Point each geometry's resize at the larger one it is made from, when intermediates.py allows one."""
    finals = [resize.job.plan for resize in shared]
    alpha = decoded.mode in ALPHA_MODES
    for child, parent in zip(shared, intermediates.parents(decoded.size, finals, alpha=alpha), strict=True):
        if parent is not None:
            child.parent = shared[parent]
            shared[parent].children.append(child)


@dataclass
class Decoded:
    """One still decode, upright, shared by the renditions made from it until the last has been resized."""

    opened: Image.Image
    # The decoder's frame (the opened image itself), and the upright working image made from it.
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
        cls,
        opened: Image.Image,
        group: DecodeGroup,
        survey: Survey,
        settings: PipelineSettings,
        notes: list[str],
    ) -> Decoded:
        grid = _drafted_grid(opened, group, survey)
        ((image, _duration),) = decode_frames(opened, 1)
        return cls(
            opened,
            image,
            upright(image, survey.orientation),
            grid,
            survey.upright_size,
            opened.info.get("icc_profile"),
            loop_count(opened),
            settings,
            notes,
        )

    def job(self, plan: Geometry) -> FrameJob:
        """The frame job of one geometry, its smart window (if any) placed on this decode."""
        cmyk_profile = self.settings.cmyk_profile
        final = place_smart_window(
            self.base, plan, self.grid, profile=self.profile, cmyk_profile=cmyk_profile, notes=self.notes
        )
        return FrameJob(final, self.grid, self.profile, cmyk_profile, self.notes)

    def resized(self, job: FrameJob) -> tuple[Image.Image, Image.Image]:
        """A geometry's frame after the resize step (what smaller renditions are made from) and after every
        shared step; the decode is freed after the last one."""
        raw = render_frame(self.base, job, RESIZE_STEPS)
        made = render_frame(raw, job, AFTER_RESIZE_STEPS)
        if made is self.image:  # nothing changed the pixels: detach them from the decode freed below
            raw = made = made.copy()
        with self.lock:
            self.resizes_left -= 1
            if self.resizes_left == 0:
                self.release()
        return raw, made

    def release(self) -> None:
        """The decode is no longer needed: free it before the largest encodes."""
        self.base = None
        self.opened.close()


@dataclass
class SharedResize:
    """One geometry's frame, made once by its own task before any of its renditions (a WebP and an AVIF of
    one size) is encoded: from the decode, or from the resize of its ``parent``, a larger rendition, whose
    task runs first and hands this one on."""

    decoded: Decoded
    job: FrameJob
    items: list[Wanted]
    parent: SharedResize | None = None
    # Geometries made from this one's resize, which is kept until the last of them has been made.
    children: list[SharedResize] = field(default_factory=list)
    children_left: int = 0
    image: Image.Image | None = None
    raw: Image.Image | None = None
    used: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def make(self) -> None:
        """The geometry's frame through the shared steps; its resize is kept for the children."""
        if self.parent is None:
            raw, self.image = self.decoded.resized(self.job)
        else:
            raw = self.parent.resized_for(self.job)
            self.image = render_frame(raw, self.job, AFTER_RESIZE_STEPS)
        self.children_left = len(self.children)
        self.raw = raw if self.children else None

    def resized_for(self, job: FrameJob) -> Image.Image:
        """A smaller geometry's resize, made from this one's, which goes after the last such."""
        raw = self.raw
        assert raw is not None
        made = render_frame(
            raw, replace(job, grid=intermediates.grid(self.decoded.source_size, raw.size)), RESIZE_STEPS
        )
        with self.lock:
            self.children_left -= 1
            if self.children_left == 0:
                self.raw = None
        return made

    def done(self) -> bool:
        """One of its renditions has its frame: the last lets the frame go (and is told it was last)."""
        with self.lock:
            self.used += 1
            if self.used == len(self.items):
                self.image = None
                return True
            return False
