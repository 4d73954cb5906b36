"""Rendition sets: one upload, many outputs, the source's facts and its placeholder, from shared work.

Every rendition is pixel-for-pixel what ``pipeline.convert`` makes for the same options: each one is resized
from a decode at the very scale /convert would decode at (JPEG's 1/2, 1/4, 1/8 DCT scaling), so its bytes
are identical. What is shared is everything that is the same: the upload, the header parse, one decode per
distinct scale (not per output), one resize and colour conversion per distinct geometry (a WebP and an AVIF
of the same size share it), and the placeholder, which reuses a decode when one is at its scale.

Decodes run from the largest scale to the smallest and each is released before the next, so memory peaks
at what the largest single conversion would need, plus the encoded outputs held for the response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

from . import geometry
from .budget import check_encode_time, check_memory, check_output_size, check_source_size
from .colour import to_srgb
from .encoders import MEDIA_TYPES, Frame
from .errors import InvalidOption
from .facts import SourceFacts, has_transparency
from .geometry import Geometry
from .options import ConvertOptions
from .output import encode_output
from .pipeline_settings import PipelineSettings
from .placeholder import PROXY_SIDE, Placeholder, make_proxy, placeholder
from .source import (
    DRAFT_FORMATS,
    apply_draft,
    count_frames,
    decode_frames,
    loop_count,
    open_image,
    oriented_size,
    read_orientation,
)
from .transform import finish, place_smart_window, resize, upright

# The box the placeholder's decode must cover: JPEG is decoded at 1/8 for it.
PLACEHOLDER_BOX = (PROXY_SIDE, PROXY_SIDE)


@dataclass(frozen=True)
class Rendition:
    """One encoded output of a set."""

    name: str
    data: bytes
    format: str
    width: int
    height: int
    frames: int
    quality: int | None = None
    score: float | None = None

    @property
    def media_type(self) -> str:
        """The Content-Type of ``data``."""
        return MEDIA_TYPES[self.format]


@dataclass(frozen=True)
class RenditionSet:
    """A set's outputs in request order, with the source's facts and placeholder."""

    source: SourceFacts
    placeholder: Placeholder
    renditions: tuple[Rendition, ...]
    # Size of each decode made, largest first (JPEG decodes at reduced scales).
    decoded_sizes: tuple[tuple[int, int], ...] = ()
    notes: tuple[str, ...] = ()


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


def describe(data: bytes, settings: PipelineSettings) -> RenditionSet:
    """The source's facts and placeholder alone, decoding no more than the placeholder needs (/info)."""
    return render_set(data, (), settings)


def render_set(
    data: bytes, requests: Sequence[tuple[str, ConvertOptions]], settings: PipelineSettings
) -> RenditionSet:
    """Make every requested (name, options) rendition of one upload, plus its facts and placeholder."""
    notes: list[str] = []
    with open_image(data) as header:
        source_format = header.format or "unknown"
        total_frames = count_frames(header, data, True, settings)
        orientation = read_orientation(header, notes)
        upright_size = oriented_size(header.size, orientation)
        wanted = [
            _Wanted(
                index,
                name,
                options,
                _plan(name, upright_size, options),
                total_frames if options.animated else 1,
            )
            for index, (name, options) in enumerate(requests)
        ]
        check_source_size(header.size, max([1, *(item.frame_count for item in wanted)]), settings)
        for item in wanted:
            check_output_size(item.plan, item.options)
        groups = _decode_groups(data, header, wanted, orientation)
        largest = groups[0]
        output_pixels = sum(item.plan.canvas[0] * item.plan.canvas[1] * item.frame_count for item in wanted)
        scored = max(
            (item.plan.canvas[0] * item.plan.canvas[1] for item in wanted if item.options.auto_quality),
            default=0,
        )
        check_memory(source_format, header.mode, largest.size, output_pixels, settings, scored_pixels=scored)
        check_encode_time(((item.plan, item.frame_count, item.options) for item in wanted), settings)

    making = _Making(data, orientation, upright_size, settings, notes, [None] * len(wanted))
    for group in groups:
        making.render(group)
    assert making.placeholder is not None  # one group always makes the placeholder
    facts = SourceFacts(
        format=source_format.lower(),
        width=upright_size[0],
        height=upright_size[1],
        frames=total_frames,
        animated=total_frames > 1,
        has_alpha=making.has_alpha,
    )
    return RenditionSet(
        source=facts,
        placeholder=making.placeholder,
        renditions=tuple(result for result in making.results if result is not None),
        decoded_sizes=tuple(group.size for group in groups),
        notes=tuple(dict.fromkeys(notes)),
    )


def _plan(name: str, upright_size: tuple[int, int], options: ConvertOptions) -> Geometry:
    """The rendition's geometry; a crop that does not fit names the rendition."""
    try:
        return geometry.plan(upright_size, options)
    except InvalidOption as error:
        msg = f"variant {name!r}: {error.message}"
        raise InvalidOption(error.field, msg) from None


def _decode_groups(
    data: bytes, header: Image.Image, wanted: list[_Wanted], orientation: int
) -> list[_DecodeGroup]:
    """Group the renditions (and the placeholder) by the size their decode has, largest first.

    JPEG can be decoded at reduced scales; a rendition uses the scale /convert would use for it, so its
    pixels match. Other formats decode at full size, once.
    """
    boxes: dict[tuple[int, int], list[_Wanted]] = {}
    for item in wanted:
        boxes.setdefault(item.plan.scaled_source, []).append(item)
    boxes.setdefault(PLACEHOLDER_BOX, [])
    groups: dict[tuple[int, int], _DecodeGroup] = {}
    for box, items in sorted(boxes.items(), key=lambda entry: entry[0][0] * entry[0][1], reverse=True):
        size = _decoded_size(data, header, box, orientation)
        group = groups.setdefault(size, _DecodeGroup(box, size))
        group.wanted.extend(items)
        if box == PLACEHOLDER_BOX:
            group.makes_placeholder = True
    return sorted(groups.values(), key=lambda group: group.size[0] * group.size[1], reverse=True)


def _decoded_size(
    data: bytes, header: Image.Image, box: tuple[int, int], orientation: int
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

    data: bytes
    orientation: int
    upright_size: tuple[int, int]
    settings: PipelineSettings
    notes: list[str]
    results: list[Rendition | None]
    placeholder: Placeholder | None = None
    has_alpha: bool = False

    def render(self, group: _DecodeGroup) -> None:
        """Decode once at the group's scale and make every rendition in it.

        Renditions that share a geometry share one resize and colour conversion. Geometries go smallest
        first and a rendition is encoded as soon as its last frame is made; for a still image the decode is
        released before the largest output is encoded. So a still set peaks where a single conversion to its
        largest output does, plus the small encoded outputs already made.
        """
        by_plan: dict[Geometry, list[_Wanted]] = {}
        for item in sorted(group.wanted, key=lambda item: item.plan.canvas[0] * item.plan.canvas[1]):
            by_plan.setdefault(item.plan, []).append(item)
        still = group.frame_count == 1
        cmyk_profile = self.settings.cmyk_profile
        with open_image(self.data) as source:
            apply_draft(source, group.box, self.orientation)
            profile = source.info.get("icc_profile")
            grid = geometry.grid(
                self.upright_size, oriented_size(source.size, self.orientation), self.orientation
            )
            placed: dict[Geometry, Geometry] = {}
            for frame_index, (image, duration) in enumerate(decode_frames(source, group.frame_count)):
                base = upright(image, self.orientation)
                if frame_index == 0:
                    if group.makes_placeholder:
                        self.has_alpha = has_transparency(base)
                        proxy = to_srgb(make_proxy(base), profile, cmyk_profile, self.notes)
                        self.placeholder = placeholder(proxy)
                    # Smart windows are chosen on the first frame, as /convert chooses them.
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
                            self.results[item.index] = _encode(item, loop_count(source), self.settings)
                            item.frames.clear()
                    del frames


def _encode(item: _Wanted, loop: int, settings: PipelineSettings) -> Rendition:
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
    )
