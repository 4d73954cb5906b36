"""The one orchestrator: one upload in, a set of renditions (and the source's facts and placeholder) out.

Pure by design: no Flask, no logging, no environment. ``/convert`` is a set of one unnamed rendition without
the placeholder work, ``/variants`` a set of many, ``/info`` a set of none. ``render_set`` runs a request's
phases in order, each a call into the module that owns it::

    open and survey the header (source)  ->  plan every rendition (geometry)  ->  check sizes (limits)
      ->  group by decode (decodes)  ->  check memory and time (limits)  ->  make (schedule, steps, encode)

Renditions share everything that is the same: the upload, the header, one decode per distinct scale, one
resize per distinct geometry, a larger rendition's resize for one well below it, and the placeholder's
decode when one is at its scale (imgopt/imaging/schedule.py says how, and when each is released).
"""

from __future__ import annotations

from collections.abc import Sequence

from imgopt.errors import InvalidOption
from imgopt.imaging import geometry
from imgopt.imaging.buffer import Buffer
from imgopt.imaging.decodes import Wanted, group_by_decode
from imgopt.imaging.describe.facts import SourceFacts
from imgopt.imaging.geometry import Geometry
from imgopt.imaging.limits import check_output_size, check_set_budgets, check_source_size
from imgopt.imaging.options import ConvertOptions, with_default_quality
from imgopt.imaging.outputs import Rendition, RenditionSet
from imgopt.imaging.parallel import Borrow, lend_none
from imgopt.imaging.schedule import SetMaker, StillWanted
from imgopt.imaging.settings import PipelineSettings
from imgopt.imaging.source import Survey, open_image, survey

__all__ = [
    "ConvertOptions",
    "PipelineSettings",
    "Rendition",
    "RenditionSet",
    "convert",
    "describe",
    "render_set",
]

# Output formats that hold one frame: an animated source gives them its first.
STILL_FORMATS = ("jpeg",)


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
    (a single AVIF rendition gives them to its encoder, a single quality=auto one to its search), never
    more than ``settings.rendition_threads``, the renditions, or what the memory budget allows."""
    notes: list[str] = []
    requests = [(name, with_default_quality(options, settings.default_quality)) for name, options in requests]
    animated = describe or any(options.animated for _name, options in requests)
    with open_image(data) as header:
        source = survey(header, data, animated=animated, settings=settings, notes=notes)
        frames = [_frames_for(options, source) for _name, options in requests]
        check_source_size(header.size, max([1, *frames]), settings)
        wanted = [
            Wanted(index, name, options, _plan(name, source, options), count)
            for index, ((name, options), count) in enumerate(zip(requests, frames, strict=True))
        ]
        for item in wanted:
            check_output_size(item.plan, item.options)
        groups = group_by_decode(header, data, wanted, source.orientation, placeholder=describe)
        try:
            outputs = [(item.plan, item.frame_count, item.options) for item in wanted]
            threads = check_set_budgets(source.format, source.mode, groups[0].size, outputs, settings)
            maker = SetMaker(data, source, settings, notes, wanted, still_wanted)
            maker.make(groups, threads, borrow)
        finally:
            for group in groups:
                group.close()
    return RenditionSet(
        source=SourceFacts(
            format=source.format.lower(),
            width=source.upright_size[0],
            height=source.upright_size[1],
            frames=source.frames,
            animated=source.frames > 1,
            has_alpha=maker.has_alpha,
        ),
        placeholder=maker.placeholder,
        renditions=tuple(result for result in maker.results if result is not None),
        decoded_sizes=tuple(group.size for group in groups),
        resized_from=tuple(size for size in maker.resized_from if size is not None),
        notes=tuple(dict.fromkeys(notes)),
    )


def _frames_for(options: ConvertOptions, source: Survey) -> int:
    """Frames a rendition is made of: every frame for an animated output, else the first (JPEG has one)."""
    return source.frames if options.animated and options.format not in STILL_FORMATS else 1


def _plan(name: str, source: Survey, options: ConvertOptions) -> Geometry:
    """The rendition's geometry; a crop that does not fit names the rendition, when it has a name."""
    try:
        return geometry.plan(source.upright_size, options)
    except InvalidOption as error:
        if not name:
            raise
        msg = f"variant {name!r}: {error.message}"
        raise InvalidOption(error.field, msg) from None
