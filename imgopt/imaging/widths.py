"""widths=auto: a rendition's srcset widths chosen from the bytes real encodes cost.

A srcset's widths decide what a browser downloads: for a slot that needs N pixels it takes the narrowest
stored width of at least N, so between two stored widths a slot pays up to the larger file's bytes for the
smaller one's need. Bytes grow with width as a power law, steeply for detailed photos (an exponent of 1.3-1.9
on the corpus) and gently for flat graphics (1.0-1.2), so the same widths are too few for one and too many
for the other. The rule:

1. The range: ``min_width`` to ``max_width``, never wider than the region shown (the source, or its crop):
   nothing is enlarged.
2. Both ends are encoded for real (they are kept as renditions), and their bytes give the image's own curve.
3. As many widths as it takes for each file to cost at most STEP_RATIO times the next narrower one, but at
   most ``max_images``, and fewer while the narrowest step would save less than ``bytes_step`` bytes: a
   width is stored only when it is worth its bytes.
4. The widths are spaced so that the byte ratio between neighbours is the same all along the curve (under a
   power law, evenly in log width), which makes the worst case of every step alike.

The renditions are named ``{name}-{width}``. The set is made in two passes of the one orchestrator: the
ends with every fixed rendition, then the widths between them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from imgopt.imaging.buffer import Buffer
from imgopt.imaging.options import AutoWidths, ConvertOptions
from imgopt.imaging.outputs import Rendition, RenditionSet
from imgopt.imaging.parallel import Borrow, lend_none
from imgopt.imaging.pipeline import render_set
from imgopt.imaging.schedule import StillWanted
from imgopt.imaging.settings import PipelineSettings
from imgopt.imaging.source import open_image, oriented_size, read_orientation

# A file may cost at most this many times the next narrower one before a width between them is worth it.
STEP_RATIO = 1.3


def choose(low: int, high: int, low_bytes: int, high_bytes: int, spec: AutoWidths) -> list[int]:
    """The widths to store between ``low`` and ``high`` (both encoded: ``low_bytes``, ``high_bytes``)."""
    if high <= low or high_bytes <= low_bytes:
        return [high]
    ratio = high_bytes / low_bytes
    count = min(spec.max_images, 1 + math.ceil(math.log(ratio) / math.log(STEP_RATIO)))
    while count > 1 and low_bytes * (ratio ** (1 / (count - 1)) - 1) < spec.bytes_step:
        count -= 1
    if count == 1:
        return [high]
    return sorted({round(low * (high / low) ** (step / (count - 1))) for step in range(count)})


def render_set_choosing_widths(
    data: Buffer,
    requests: Sequence[tuple[str, ConvertOptions]],
    settings: PipelineSettings,
    *,
    describe: bool = True,
    still_wanted: StillWanted = None,
    borrow: Borrow = lend_none,
) -> RenditionSet:
    """render_set, where a rendition with widths=auto becomes its chosen widths, named {name}-{width}."""
    if not any(options.widths for _name, options in requests):
        return render_set(
            data, requests, settings, describe=describe, still_wanted=still_wanted, borrow=borrow
        )
    region_width = _upright_width(data)
    ranges = {name: _range(options, region_width) for name, options in requests if options.widths is not None}
    first = render_set(
        data,
        [item for name, options in requests for item in _first_pass(name, options, ranges.get(name))],
        settings,
        describe=describe,
        still_wanted=still_wanted,
        borrow=borrow,
    )
    made = {rendition.name: rendition for rendition in first.renditions}
    made_from = _resized_from(first)
    chosen: dict[str, list[int]] = {}
    for name, (low, high) in ranges.items():
        ends = (made[f"{name}-{low}"], made[f"{name}-{high}"])
        spec = dict(requests)[name].widths
        assert spec is not None
        chosen[name] = choose(low, high, len(ends[0].data), len(ends[1].data), spec)
    between = [
        (f"{name}-{width}", replace(options, width=width, widths=None))
        for name, options in requests
        if name in chosen
        for width in chosen[name]
        if width not in ranges[name]
    ]
    second = (
        render_set(data, between, settings, describe=False, still_wanted=still_wanted, borrow=borrow)
        if between
        else None
    )
    if second is not None:
        made.update({rendition.name: rendition for rendition in second.renditions})
        made_from.update(_resized_from(second))
    ordered: list[Rendition] = []
    for name, _options in requests:
        if name in chosen:
            ordered.extend(made[f"{name}-{width}"] for width in chosen[name])
        else:
            ordered.append(made[name])
    return replace(
        first,
        renditions=tuple(ordered),
        decoded_sizes=first.decoded_sizes + (second.decoded_sizes if second else ()),
        resized_from=tuple(made_from[rendition.name] for rendition in ordered if rendition.name in made_from),
        notes=tuple(dict.fromkeys(first.notes + (second.notes if second else ()))),
    )


def _resized_from(result: RenditionSet) -> dict[str, tuple[int, int]]:
    if len(result.resized_from) != len(result.renditions):
        return {}
    return {
        rendition.name: size for rendition, size in zip(result.renditions, result.resized_from, strict=True)
    }


def _first_pass(
    name: str, options: ConvertOptions, ends: tuple[int, int] | None
) -> list[tuple[str, ConvertOptions]]:
    """A fixed rendition as it is; an auto one's narrowest and widest widths."""
    if ends is None:
        return [(name, options)]
    return [(f"{name}-{width}", replace(options, width=width, widths=None)) for width in sorted(set(ends))]


def _range(options: ConvertOptions, upright_width: int) -> tuple[int, int]:
    """The narrowest and widest widths to consider: within the spec, never wider than the region shown."""
    spec = options.widths
    assert spec is not None
    region = options.crop[2] if options.crop is not None else upright_width
    high = min(spec.max_width, region)
    return min(spec.min_width, high), high


def _upright_width(data: Buffer) -> int:
    """The upload's width once turned upright (from its header alone)."""
    with open_image(data) as header:
        return oriented_size(header.size, read_orientation(header, []))[0]
