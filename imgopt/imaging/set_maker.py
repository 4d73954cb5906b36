"""Making a set: its decodes, resizes and encodes as tasks, what is shared, and when each thing is released.

The orchestrator (pipeline.py) plans what to make (set_plan.py) and groups it by decode (decode_groups.py);
this module makes it, on the threads the request's context lends (imgopt/imaging/parallel.py: one thread
runs everything depth first, in order). Before each task the context is asked whether the work is still
wanted and in time: the one place it is asked.

- each decode is a task. A still decode is turned upright once; each geometry's resize (shared by the
  formats of that size) is a task of its own, which hands on its encodes, and the resizes made from it;
- a smaller rendition is resized from a larger one's resize where imgopt/imaging/intermediates.py allows;
- an animation is decoded frame by frame in its decode's task, each frame through the same steps, and each
  rendition's frames are encoded in a task of their own;
- widths=auto: once both ends of a rendition are encoded, its widths are chosen (imgopt/imaging/widths.py)
  and those between the ends are made from the decodes of the same size, which are kept until then; a width
  whose decode size the set has not made gets a decode of its own (and so does an animation's);
- a decode is released after its last resize (and its last widths=auto hold), a resize after its last encode
  and its last child, so memory peaks at what the largest single conversion needs, plus the decodes kept
  for widths=auto and the encoded outputs held for the response.

Every frame goes through the one list of steps (imgopt/imaging/steps.py), by ``steps.run_steps``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from functools import partial

from PIL import Image

from imgopt.imaging import geometry, intermediates, widths
from imgopt.imaging.buffer import Buffer
from imgopt.imaging.codecs import Frame
from imgopt.imaging.colour import to_srgb
from imgopt.imaging.context import RequestContext
from imgopt.imaging.decode_groups import DecodeGroup, decode_size
from imgopt.imaging.describe.facts import has_transparency
from imgopt.imaging.describe.placeholder import Placeholder, make_proxy, placeholder
from imgopt.imaging.encode import encode_output
from imgopt.imaging.geometry import Geometry
from imgopt.imaging.limits import ALPHA_MODES, estimate_encode_seconds, uses_lent_threads
from imgopt.imaging.outputs import Rendition
from imgopt.imaging.parallel import TaskRunner
from imgopt.imaging.set_plan import AutoRendition, SetPlan, Wanted
from imgopt.imaging.settings import PipelineSettings
from imgopt.imaging.source import apply_draft, decode_frames, loop_count, oriented_size
from imgopt.imaging.steps import FrameJob, Phase, output_key, run_steps

# Decodes go before any resize or encode when threads are lent: they are short and every rendition waits for
# one (the placeholder's 1/8 decode, left to the end, made the set's last task).
DECODE_FIRST = float("inf")

# The phases of one geometry's frame made from a decode, and of one output of it.
FROM_THE_RESIZE = (Phase.RESIZE, Phase.GEOMETRY)
PER_OUTPUT = (Phase.CANVAS, Phase.OPERATIONS, Phase.OUTPUT)


@dataclass
class SetMaker:
    """One set being made: its renditions as they are encoded, and what its decodes told of the source."""

    data: Buffer
    plan: SetPlan
    settings: PipelineSettings
    context: RequestContext
    groups: list[DecodeGroup]
    results: dict[int, Rendition] = field(default_factory=dict)
    # Per rendition: the size of the image it was resized from (its decode, or a larger rendition's resize).
    resized_from: dict[int, tuple[int, int]] = field(default_factory=dict)
    placeholder: Placeholder | None = None
    has_alpha: bool | None = None
    # Threads each encoder may use: more than one only for a single rendition on lent cores.
    encoder_threads: int = 1
    # Renditions are made on several threads at once.
    parallel: bool = False
    runner: TaskRunner = field(default_factory=lambda: TaskRunner(1))
    lock: threading.RLock = field(default_factory=threading.RLock)
    decoded: dict[int, Decoded] = field(default_factory=dict)
    # The still decodes each widths=auto rendition keeps, by its name.
    kept: dict[str, list[DecodeGroup]] = field(default_factory=dict)
    # widths=auto renditions still to choose their widths, and the widths chosen at sizes none kept.
    autos_left: int = 0
    unheld: list[Wanted] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.autos_left = len(self.plan.autos)
        for auto in self.plan.autos:
            self.kept[auto.name] = self._to_keep_for(auto)
            for group in self.kept[auto.name]:
                group.holds += 1

    def make(self, threads: int) -> None:
        """Make every group's renditions on up to ``threads`` threads, as many as the context lends."""
        with self.context.borrow(threads - 1) as lent:
            alone = len(self.plan.wanted) == 1 and not self.plan.autos
            if alone and uses_lent_threads(self.plan.wanted[0].options):
                self.encoder_threads = 1 + lent  # one rendition: its encoder (or search) gets the lent cores
                self.runner = TaskRunner(1, before_each=self.context.check)
            else:
                self.runner = TaskRunner(1 + lent, before_each=self.context.check)
            self.parallel = self.runner.threads > 1
            groups = list(self.groups)
            self.runner.run([partial(self._decode, group) for group in groups], [DECODE_FIRST] * len(groups))

    def close(self) -> None:
        """Release whatever a failed set left open: decodes never made, decodes still kept."""
        for group in self.groups:
            group.close()
        for decoded in self.decoded.values():
            decoded.release()

    def _to_keep_for(self, auto: AutoRendition) -> list[DecodeGroup]:
        """The still decodes between the sizes of an auto rendition's ends' decodes: its widths between the
        ends will be made from them."""
        ends = [
            group.pixels
            for group in self.groups
            if any(auto.end_width(item) is not None for item in group.wanted)
        ]
        return [
            group
            for group in self.groups
            if group.frame_count == 1 and min(ends) <= group.pixels <= max(ends)
        ]

    def _decode(self, group: DecodeGroup) -> None:
        """A decode's task: a still hands each geometry's resize to the runner; an animation is made here."""
        opened = group.open(self.data)
        if group.frame_count > 1:
            with opened:
                self._animate(group, opened)
            return
        try:
            decoded = Decoded.of(
                opened, self._decode_job(opened, group), self.plan.source.upright_size, self.lock
            )
        except BaseException:
            opened.close()
            raise
        if group.makes_placeholder:
            self._describe(decoded.base, decoded.job.profile)
        with self.lock:
            self.decoded[id(group)] = decoded
            roots = self._resizes(decoded, group.wanted) + self._resizes(decoded, group.late)
            group.late = []
            decoded.users = len(roots) + group.holds
            if decoded.users == 0:
                decoded.release()
        self._submit_resizes(roots)

    def _resizes(self, decoded: Decoded, items: list[Wanted]) -> list[SharedResize]:
        """The resizes of ``items`` from ``decoded``, one per geometry, smaller ones made from larger ones'
        where intermediates.py allows; the roots, made from the decode itself."""
        by_plan: dict[Geometry, list[Wanted]] = {}
        for item in sorted(items, key=lambda item: item.canvas_pixels):
            by_plan.setdefault(item.plan, []).append(item)
        # Smart windows are chosen on the decode, before any rendition is made from it.
        shared = [SharedResize(decoded, decoded.job_for(plan), wanted) for plan, wanted in by_plan.items()]
        _link_intermediates(shared, decoded.base)
        for resize in shared:
            made_from = resize.parent.job.geometry.resized if resize.parent else decoded.base.size
            for item in resize.items:
                self.resized_from[item.index] = made_from
        return [resize for resize in shared if resize.parent is None]

    def _submit_resizes(self, resizes: list[SharedResize]) -> None:
        """Each geometry's resize as a task of its own, weighed by the encodes it leads to."""
        self.runner.submit_all(
            [partial(self._resize, resize) for resize in resizes],
            [self._work_after(resize) for resize in resizes],
        )

    def _resize(self, resize: SharedResize) -> None:
        """A resize's task: make it, then hand on its encodes and the resizes made from it."""
        resize.make()
        items = sorted(resize.items, key=self._encode_work, reverse=True)
        self.runner.submit_all(
            [partial(self._make_still, resize, item) for item in items],
            [self._encode_work(item) for item in items],
        )
        self._submit_resizes(resize.children)

    def _work_after(self, resize: SharedResize) -> float:
        """Estimated encode seconds of a resize's renditions and of the resizes made from it."""
        own = sum(self._encode_work(item) for item in resize.items)
        return own + sum(self._work_after(child) for child in resize.children)

    def _encode_work(self, item: Wanted) -> float:
        return estimate_encode_seconds(item.plan, 1, item.options, self.settings)

    def _make_still(self, resize: SharedResize, item: Wanted) -> None:
        """An encode's task: the geometry's shared frame, through the per-output steps, encoded."""
        frame, shared = resize.finish(item)
        if shared and self.parallel:
            # Pillow's save writes its options onto the image object: two encoders saving one object at once
            # would read each other's (an AVIF made with the WebP's quality). Each gets an object of its own.
            frame = frame.copy()
        self._encode(item, [Frame(frame, 0)], resize.job.geometry, resize.decoded.loop, self.encoder_threads)

    def _animate(self, group: DecodeGroup, opened: Image.Image) -> None:
        """An animation: every frame decoded in turn and made for each geometry through the same steps, kept
        until the rendition's last frame, then handed on to be encoded."""
        decode_job = self._decode_job(opened, group)
        loop = loop_count(opened)
        by_plan: dict[Geometry, list[Wanted]] = {}
        for item in sorted(group.wanted, key=lambda item: item.canvas_pixels):
            by_plan.setdefault(item.plan, []).append(item)
            self.resized_from[item.index] = oriented_size(group.size, self.plan.source.orientation)
        jobs: dict[Geometry, FrameJob] = {}
        frames: dict[int, list[Frame]] = {item.index: [] for item in group.wanted}
        for frame_index, (image, duration) in enumerate(decode_frames(opened, group.frame_count)):
            base, _job = run_steps(image, decode_job, (Phase.DECODE,))
            if frame_index == 0:
                if group.makes_placeholder:
                    self._describe(base, decode_job.profile)
                # Smart windows are chosen on the first frame; an animation keeps them.
                jobs = {
                    plan: run_steps(base, decode_job.for_plan(plan), (Phase.FRAMING,))[1] for plan in by_plan
                }
            for plan, items in by_plan.items():
                live = [item for item in items if frame_index < item.frame_count]
                if not live:
                    continue
                shared, job = run_steps(base, jobs[plan], FROM_THE_RESIZE)
                for item in live:
                    frame, _job = run_steps(shared, job.for_output(item.options, image), PER_OUTPUT)
                    if frame is shared and len(live) > 1 and self.parallel:
                        frame = frame.copy()  # each output's frames may be encoded at once: see _make_still
                    frames[item.index].append(Frame(frame, duration))
                    if frame_index == item.frame_count - 1:
                        # One encoder thread: libaom's bytes for a sequence depend on its thread count.
                        encode = partial(self._encode, item, frames.pop(item.index), job.geometry, loop, 1)
                        self.runner.submit(encode, self._encode_work(item))

    def _decode_job(self, opened: Image.Image, group: DecodeGroup) -> FrameJob:
        """Set the decoder to the group's scale; the job of its frames: orientation, grid, profiles."""
        survey = self.plan.source
        apply_draft(opened, group.box, survey.orientation)
        group.size = opened.size
        decoded = oriented_size(opened.size, survey.orientation)
        return FrameJob(
            survey.orientation,
            geometry.grid(survey.upright_size, decoded, survey.orientation),
            opened.info.get("icc_profile"),
            self.settings.cmyk_profile,
            self.context.notes,
            assets=self.plan.assets,
        )

    def _describe(self, base: Image.Image, profile: bytes | None) -> None:
        """The source's transparency and placeholder, from the first frame of the group's decode."""
        self.has_alpha = has_transparency(base)
        proxy = to_srgb(make_proxy(base), profile, self.settings.cmyk_profile, self.context.notes)
        self.placeholder = placeholder(proxy)

    def _encode(self, item: Wanted, frames: list[Frame], final: Geometry, loop: int, threads: int) -> None:
        """Encode a rendition's frames as its options ask, ``threads`` for an encoder that can use them."""
        first = frames[0].image
        encoded = encode_output(frames, loop, item.options, self.settings, threads=threads)
        rendition = Rendition(
            name=item.name,
            data=encoded.data,
            format=encoded.format,
            width=first.width,
            height=first.height,
            frames=len(frames),
            quality=encoded.quality,
            score=encoded.score,
            probes=encoded.probes,
            crop_box=final.crop_box,
        )
        auto = self.plan.auto_of(item)
        with self.lock:
            self.results[item.index] = rendition
            if auto is None:
                return
            width = auto.end_width(item)
            assert width is not None
            auto.end_bytes[width] = len(rendition.data)
            if len(auto.end_bytes) < len(auto.ends):
                return
        self._make_widths_between(auto)

    def _make_widths_between(self, auto: AutoRendition) -> None:
        """Both ends of a widths=auto rendition are encoded: choose its widths, and make those between the
        ends from the decodes kept for them (or, for a size none was, from a decode of their own)."""
        assert auto.options.widths is not None
        low, high = auto.end_bytes[auto.low], auto.end_bytes[auto.high]
        with self.lock:
            between = self.plan.between(
                auto, widths.choose(auto.low, auto.high, low, high, auto.options.widths)
            )
        held = self.kept[auto.name]
        kept: dict[DecodeGroup, list[Wanted]] = {group: [] for group in held}
        for item in between:
            size, opened = decode_size(item.plan.scaled_source, self.plan.source, self.data)
            if opened is not None:
                opened.close()
            group = next((group for group in held if group.size == size), None)
            if group is not None:
                kept[group].append(item)
            else:
                with self.lock:
                    self.unheld.append(item)
        for group, items in kept.items():
            self._release_hold(group, items)
        with self.lock:
            self.autos_left -= 1
            if self.autos_left:
                return  # the last auto rendition to choose decodes what none kept, for all of them at once
            unheld, self.unheld = self.unheld, []
        self._decode_unheld(unheld)

    def _decode_unheld(self, items: list[Wanted]) -> None:
        """Widths at decode sizes no kept decode has: one decode of their own per size, shared by every
        widths=auto rendition (as a second pass of the set would group them)."""
        fresh: dict[tuple[int, int], DecodeGroup] = {}
        for item in items:
            size, opened = decode_size(item.plan.scaled_source, self.plan.source, self.data)
            if size in fresh:
                fresh[size].wanted.append(item)
                if opened is not None:
                    opened.close()
            else:
                fresh[size] = DecodeGroup(item.plan.scaled_source, size, [item], opened=opened)
        for group in fresh.values():
            with self.lock:
                self.groups.append(group)
            self.runner.submit(partial(self._decode, group), DECODE_FIRST)

    def _release_hold(self, group: DecodeGroup, items: list[Wanted]) -> None:
        """A widths=auto rendition is done with a kept decode: its widths from it are made, then the hold
        let go (a decode not made yet takes them when it is)."""
        with self.lock:
            group.holds -= 1
            decoded = self.decoded.get(id(group))
            if decoded is None:
                group.late.extend(items)
                return
            roots = self._resizes(decoded, items)
            decoded.users += len(roots)
            decoded.done_with()
        self._submit_resizes(roots)


def _link_intermediates(shared: list[SharedResize], decoded: Image.Image) -> None:
    """Point each geometry's resize at the larger one it is made from, when intermediates.py allows one."""
    finals = [resize.job.geometry for resize in shared]
    alpha = decoded.mode in ALPHA_MODES
    for child, parent in zip(shared, intermediates.parents(decoded.size, finals, alpha=alpha), strict=True):
        if parent is not None:
            child.parent = shared[parent]
            shared[parent].children.append(child)


@dataclass
class Decoded:
    """One still decode, upright, shared by the renditions made from it until the last has been resized and
    no widths=auto rendition keeps it."""

    opened: Image.Image
    # The decoder's frame (the opened image itself), and the upright working image made from it.
    image: Image.Image
    base: Image.Image | None
    # The decode's frame job: its orientation, grid and profiles.
    job: FrameJob
    # The upright source's size, which the decode (and every intermediate) shows whole.
    source_size: tuple[int, int]
    loop: int
    lock: threading.RLock
    # Resizes still to be made from it, and widths=auto renditions keeping it.
    users: int = 0
    released: bool = False

    @classmethod
    def of(
        cls, opened: Image.Image, job: FrameJob, source_size: tuple[int, int], lock: threading.RLock
    ) -> Decoded:
        """Decode the opened upload's first frame (its draft already set) and turn it upright."""
        ((image, _duration),) = decode_frames(opened, 1)
        base, _job = run_steps(image, job, (Phase.DECODE,))
        return cls(opened, image, base, job, source_size, loop_count(opened), lock)

    def job_for(self, plan: Geometry) -> FrameJob:
        """The frame job of one geometry, its smart window (if any) placed on this decode."""
        assert self.base is not None
        return run_steps(self.base, self.job.for_plan(plan), (Phase.FRAMING,))[1]

    def resized(self, job: FrameJob) -> tuple[Image.Image, Image.Image]:
        """A geometry's frame after the resize step (what smaller renditions are made from) and after every
        shared step; the decode is freed after the last user."""
        assert self.base is not None
        raw, _job = run_steps(self.base, job, (Phase.RESIZE,))
        made, _job = run_steps(raw, job, (Phase.GEOMETRY,))
        if made is self.image:  # nothing changed the pixels: detach them from the decode freed below
            raw = made = made.copy()
        self.done_with()
        return raw, made

    def done_with(self) -> None:
        """One user (a resize, a widths=auto hold) is done with the decode; the last frees it."""
        with self.lock:
            self.users -= 1
            if self.users == 0:
                self.release()

    def release(self) -> None:
        """The decode is no longer needed: free it before the largest encodes."""
        if not self.released:
            self.released = True
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
    # Frames after CANVAS and OPERATIONS, by output key, with the outputs still to take each.
    finished: dict[tuple, list] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def make(self) -> None:
        """The geometry's frame through the shared steps; its resize is kept for the children."""
        if self.parent is None:
            raw, self.image = self.decoded.resized(self.job)
        else:
            raw = self.parent.resized_for(self.job)
            self.image, _job = run_steps(raw, self.job, (Phase.GEOMETRY,))
        self.children_left = len(self.children)
        self.raw = raw if self.children else None

    def resized_for(self, job: FrameJob) -> Image.Image:
        """A smaller geometry's resize, made from this one's, which goes after the last such."""
        raw = self.raw
        assert raw is not None
        chained = replace(job, grid=intermediates.grid(self.decoded.source_size, raw.size))
        made, _job = run_steps(raw, chained, (Phase.RESIZE,))
        with self.lock:
            self.children_left -= 1
            if self.children_left == 0:
                self.raw = None
        return made

    def finish(self, item: Wanted) -> tuple[Image.Image, bool]:
        """The frame ``item`` is encoded from: the geometry's, through CANVAS and OPERATIONS (made once for
        the outputs with its key) and OUTPUT; and whether another output still uses that very object. The
        last output lets the geometry's frame go."""
        job = self.job.for_output(item.options, self.decoded.image)
        key = output_key(item.options)
        with self.lock:
            geometry_frame = self.image
            assert geometry_frame is not None
            if key not in self.finished:
                made, _job = run_steps(geometry_frame, job, (Phase.CANVAS, Phase.OPERATIONS))
                takers = sum(1 for other in self.items if output_key(other.options) == key)
                self.finished[key] = [made, takers]
            entry = self.finished[key]
            entry[1] -= 1
            if entry[1] == 0:
                del self.finished[key]
            self.used += 1
            if self.used == len(self.items):
                self.image = None
            frame = entry[0]
            shared = entry[1] > 0 or (frame is geometry_frame and self.image is not None)
        frame, _job = run_steps(frame, job, (Phase.OUTPUT,))
        return frame, shared
