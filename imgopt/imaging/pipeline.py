"""The one orchestrator: one upload in, a set of renditions (and the source's facts and placeholder) out.

Pure by design: no Flask, no logging, no environment. ``/convert`` is a set of one unnamed rendition without
the placeholder work, ``/variants`` a set of many, ``/info`` a set of none. Each step is a small function in
its own module (source, limits, geometry, steps, colour, encode), tested and benchmarked alone; this module
runs them in order::

    open -> survey -> check source -> plan -> check outputs -> group by decode -> check budgets
         -> per decode: draft, decode, upright, [describe], smart window, resize, sRGB, finish, encode

Renditions share everything that is the same: the upload, the header parse, one decode per distinct scale
(JPEG's 1/2, 1/4, 1/8 DCT scaling; a rendition uses the scale a conversion of it alone would use, so its
bytes equal /convert's), one resize and colour conversion per distinct geometry (a WebP and an AVIF of the
same size share it), and the placeholder, which reuses a decode when one is at its scale. Decodes run from
the largest scale to the smallest and each is released before the next, so memory peaks at what the largest
single conversion would need, plus the encoded outputs held for the response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PIL import Image

from imgopt.errors import ClientGone, InvalidOption
from imgopt.imaging import geometry
from imgopt.imaging.buffer import Buffer
from imgopt.imaging.codecs import MEDIA_TYPES, Frame
from imgopt.imaging.colour import to_srgb
from imgopt.imaging.describe.facts import SourceFacts, has_transparency
from imgopt.imaging.describe.placeholder import PROXY_SIDE, Placeholder, make_proxy, placeholder
from imgopt.imaging.encode import encode_output
from imgopt.imaging.geometry import Box, Geometry
from imgopt.imaging.limits import check_encode_time, check_memory, check_output_size, check_source_size
from imgopt.imaging.options import ConvertOptions, with_default_quality
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
    notes: tuple[str, ...] = ()

    @property
    def rendition(self) -> Rendition:
        """The one rendition of a single conversion."""
        (only,) = self.renditions
        return only


def convert(
    data: Buffer, options: ConvertOptions, settings: PipelineSettings, *, still_wanted: StillWanted = None
) -> RenditionSet:
    """/convert: a set of one unnamed rendition, without the placeholder work."""
    return render_set(data, [("", options)], settings, describe=False, still_wanted=still_wanted)


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
) -> RenditionSet:
    """Make every requested (name, options) rendition of one upload; with ``describe``, also the source's
    transparency and placeholder (a small decode of their own when no rendition is that small).

    ``still_wanted`` is asked before each decode and each encode; once it says no, ClientGone is raised
    and nothing more is made."""
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
        _check_budgets(survey, groups[0].size, wanted, settings)
        making = _Making(data, survey, settings, notes, [None] * len(wanted), still_wanted)
        for group in groups:
            # Formats without reduced decoding have one group, decoded from the header's own image: reading
            # the orientation of a PNG may already have decoded it (its EXIF can follow the pixels).
            making.render(group, header if header.format not in DRAFT_FORMATS else None)
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
    """Frames a rendition is made of: every frame for an animated output, else the first."""
    return survey.frames if options.animated else 1


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
) -> None:
    """Pixel memory and encode time, summed over the renditions, before anything is decoded."""
    output_pixels = sum(item.plan.canvas[0] * item.plan.canvas[1] * item.frame_count for item in wanted)
    scored = max(
        (item.plan.canvas[0] * item.plan.canvas[1] for item in wanted if item.options.auto_quality),
        default=0,
    )
    check_memory(survey.format, survey.mode, largest_decode, output_pixels, settings, scored_pixels=scored)
    check_encode_time(((item.plan, item.frame_count, item.options) for item in wanted), settings)


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
    still_wanted: StillWanted = None
    placeholder: Placeholder | None = None
    has_alpha: bool | None = None

    def check_still_wanted(self) -> None:
        """Raise ClientGone when nobody waits for what is being made."""
        if self.still_wanted is not None and not self.still_wanted():
            msg = "the client closed the connection; the rest of the request was not made"
            raise ClientGone(msg)

    def render(self, group: _DecodeGroup, opened: Image.Image | None = None) -> None:
        """Decode once at the group's scale (from ``opened`` when given, else a fresh open of the upload) and
        make every rendition in it.

        Renditions that share a geometry share one resize and colour conversion. Geometries go smallest
        first and a rendition is encoded as soon as its last frame is made; for a still image the decode is
        released before the largest output is encoded. So a still set peaks where a single conversion to its
        largest output does, plus the small encoded outputs already made.
        """
        by_plan: dict[Geometry, list[_Wanted]] = {}
        for item in sorted(group.wanted, key=lambda item: item.plan.canvas[0] * item.plan.canvas[1]):
            by_plan.setdefault(item.plan, []).append(item)
        self.check_still_wanted()
        still = group.frame_count == 1
        orientation = self.survey.orientation
        cmyk_profile = self.settings.cmyk_profile
        with opened or open_image(self.data) as source:
            apply_draft(source, group.box, orientation)
            profile = source.info.get("icc_profile")
            decoded_upright = oriented_size(source.size, orientation)
            grid = geometry.grid(self.survey.upright_size, decoded_upright, orientation)
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
                for position, (plan, items) in enumerate(by_plan.items()):
                    live = [item for item in items if frame_index < item.frame_count]
                    if not live:
                        continue
                    final = placed[plan]
                    resized = to_srgb(resize(base, final, grid), profile, cmyk_profile, self.notes)
                    frames = [
                        finish(resized, image, plan=plan, output_format=item.options.format) for item in live
                    ]
                    del resized
                    if still and position == len(by_plan) - 1:
                        del base
                        source.close()  # the decode is no longer needed: free it before the largest encode
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


def _encode(item: _Wanted, final: Geometry, loop: int, settings: PipelineSettings) -> Rendition:
    """Encode a rendition's frames as its options ask."""
    first = item.frames[0].image
    encoded = encode_output(item.frames, loop, item.options, settings)
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
