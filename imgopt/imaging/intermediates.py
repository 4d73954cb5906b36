"""Smaller renditions from larger ones: a whole-image resize kept as the source of renditions well below it.

A decode at full size (PNG, WebP, HEIF, a JPEG too large for its draft scales) is slow to resize from: a
12 MP decode takes 100-140 ms per width here, however small the width. A rendition is instead resized from
the resize of another rendition of the set (its *intermediate*) when

- the intermediate shows the whole image (no crop, no cover window) and is itself a real reduction, at most
  1/CHAIN_FACTOR of what it was resized from on both sides, and
- it is at least CHAIN_FACTOR times the rendition's scale on both sides.

Both bounds keep a second Lanczos far from the first one's cut-off, so the rendition stays as close to a
full-precision resize of the decode as /convert's own (the fidelity rule, docs/performance.md): smaller
factors or a near-1:1 first step blurred measurably (a 2048 px PNG's 768 px rendition from its 1920 px one
lost 2.2 SSIMULACRA2 points before encoding). Images with an alpha channel are never chained: an
intermediate holds colour un-premultiplied in 8 bits, and resizing it again shifted half-transparent edges
(a transparent PNG's 320 px WebP lost 3.2 points). The renditions' bytes are no longer byte for byte
/convert's; /convert itself never has an intermediate.
"""

from __future__ import annotations

from collections.abc import Sequence

from imgopt.imaging.geometry import Geometry, Grid

CHAIN_FACTOR = 2.0


def parents(decoded: tuple[int, int], finals: Sequence[Geometry], *, alpha: bool) -> list[int | None]:
    """For each geometry, the index of the one whose resize it is made from; None: from the decode (always,
    for an image with ``alpha``).

    The smallest eligible intermediate is chosen: it is the cheapest to resize from.
    """
    if alpha:
        return [None] * len(finals)
    order = sorted(range(len(finals)), key=lambda index: _area(finals[index].resized), reverse=True)
    sources: dict[int, tuple[int, int]] = {}
    chosen: list[int | None] = [None] * len(finals)
    for index in order:
        final = finals[index]
        eligible = [
            earlier
            for earlier in sources
            if _is_intermediate(finals[earlier], sources[earlier])
            and _at_least(finals[earlier].resized, final.scaled_source, CHAIN_FACTOR)
        ]
        if eligible:
            chosen[index] = min(eligible, key=lambda earlier: _area(finals[earlier].resized))
        parent = chosen[index]
        sources[index] = decoded if parent is None else finals[parent].resized
    return chosen


def grid(source_size: tuple[int, int], intermediate: tuple[int, int]) -> Grid:
    """How upright source coordinates map onto an intermediate of the whole upright source."""
    return Grid((intermediate[0] / source_size[0], intermediate[1] / source_size[1]))


def _is_intermediate(final: Geometry, resized_from: tuple[int, int]) -> bool:
    return final.crop_box is None and _at_least(resized_from, final.resized, CHAIN_FACTOR)


def _at_least(larger: tuple[int, int], smaller: tuple[int, int], factor: float) -> bool:
    return larger[0] >= factor * smaller[0] and larger[1] >= factor * smaller[1]


def _area(size: tuple[int, int]) -> int:
    return size[0] * size[1]
