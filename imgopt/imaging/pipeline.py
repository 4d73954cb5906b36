"""The one orchestrator: one upload in, a set of renditions (and the source's facts and placeholder) out.

Pure by design: no Flask, no logging, no environment. ``/convert`` is a set of one unnamed rendition without
the placeholder work, ``/variants`` a set of many (widths=auto included), ``/info`` a set of none.
``render_set`` runs a whole request's phases in order, each a call into the module that owns it::

    open and survey the header (source)  ->  plan every rendition (set_plan)  ->  check sizes (limits)
      ->  group by decode (decode_groups)  ->  check memory and time, once for the whole request (limits)
      ->  make (set_maker, steps, encode; widths=auto's widths between its ends too)

Renditions share everything that is the same: the upload, the header, one decode per distinct scale, one
resize per distinct geometry, a larger rendition's resize for one well below it, and the placeholder's
decode when one is at its scale (imgopt/imaging/set_maker.py says how, and when each is released). The
request's context (imgopt/imaging/context.py) is asked between the tasks whether to go on.
"""

from __future__ import annotations

from collections.abc import Sequence

from imgopt.imaging.buffer import Buffer
from imgopt.imaging.context import RequestContext
from imgopt.imaging.decode_groups import group_by_decode
from imgopt.imaging.describe.facts import SourceFacts
from imgopt.imaging.limits import check_output_size, check_set_budgets, check_source_size
from imgopt.imaging.options import ConvertOptions, with_default_quality
from imgopt.imaging.outputs import Rendition, RenditionSet
from imgopt.imaging.set_maker import SetMaker
from imgopt.imaging.set_plan import SetPlan
from imgopt.imaging.settings import PipelineSettings
from imgopt.imaging.source import open_image, survey

__all__ = [
    "ConvertOptions",
    "PipelineSettings",
    "Rendition",
    "RenditionSet",
    "RequestContext",
    "convert",
    "describe",
    "render_set",
]


def convert(
    data: Buffer, options: ConvertOptions, settings: PipelineSettings, context: RequestContext | None = None
) -> RenditionSet:
    """/convert: a set of one unnamed rendition, without the placeholder work."""
    return render_set(data, [("", options)], settings, context, describe=False)


def describe(data: Buffer, settings: PipelineSettings, context: RequestContext | None = None) -> RenditionSet:
    """/info: the source's facts and placeholder alone, decoding no more than the placeholder needs."""
    return render_set(data, (), settings, context)


def render_set(
    data: Buffer,
    requests: Sequence[tuple[str, ConvertOptions]],
    settings: PipelineSettings,
    context: RequestContext | None = None,
    *,
    describe: bool = True,
) -> RenditionSet:
    """Make every requested (name, options) rendition of one upload, a widths=auto one as the widths it
    chooses (named {name}-{width}); with ``describe``, also the source's transparency and placeholder (a small
    decode of their own when no rendition is that small).

    The ``context`` is asked before each decode, resize and encode; once it says stop, the error it raises
    ends the set and nothing more is made. It lends threads for idle cores: renditions then run side by side
    (a single AVIF rendition gives them to its encoder, a single quality=auto one to its search), never more
    than ``settings.rendition_threads``, the renditions, or what the memory budget allows."""
    context = context or RequestContext()
    requests = [(name, with_default_quality(options, settings.default_quality)) for name, options in requests]
    animated = describe or any(options.animated for _name, options in requests)
    with open_image(data) as header:
        source = survey(header, data, animated=animated, settings=settings, notes=context.notes)
        plan = SetPlan.of(requests, source, settings, context.notes)
        check_source_size(header.size, plan.most_frames, settings)
        for item in plan.wanted:
            check_output_size(item.output, item.options)
        groups = group_by_decode(header, data, source, plan.wanted, placeholder=describe)
        maker = SetMaker(data, plan, settings, context, groups)
        try:
            outputs = [(item.output, item.frame_count, item.options) for item in plan.budgeted]
            kept = {id(group): group.size for groups_kept in maker.kept.values() for group in groups_kept}
            threads = check_set_budgets(
                source.format,
                source.mode,
                groups[0].size,
                outputs,
                settings,
                kept_decodes=list(kept.values()),
            )
            maker.make(threads)
        finally:
            maker.close()
    made = plan.in_request_order(maker.results)
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
        renditions=tuple(maker.results[item.index] for item in made),
        decoded_sizes=tuple(group.size for group in maker.groups),
        resized_from=tuple(maker.resized_from[item.index] for item in made),
        notes=context.unique_notes(),
    )
