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

The renditions are named ``{name}-{width}``. The ends are made with the set's other renditions; once both
are encoded, the widths between them are made from the same decodes (imgopt/imaging/set_maker.py).
"""

from __future__ import annotations

import math

from imgopt.imaging.options import AutoWidths, ConvertOptions

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
    return _spaced(low, high, count)


def ends(options: ConvertOptions, upright_width: int) -> tuple[int, int]:
    """The narrowest and widest widths to consider: within the spec, never wider than the region shown."""
    spec = options.widths
    assert spec is not None
    region = options.crop[2] if options.crop is not None else upright_width
    high = min(spec.max_width, region)
    return min(spec.min_width, high), high


def most(low: int, high: int, spec: AutoWidths) -> list[int]:
    """The most widths ``choose`` can give between these ends: what a set's budgets are checked for before
    the ends' bytes are known."""
    return [high] if high <= low else _spaced(low, high, spec.max_images)


def _spaced(low: int, high: int, count: int) -> list[int]:
    """``count`` widths from ``low`` to ``high``, evenly in log width (one: ``high`` alone)."""
    if count <= 1:
        return [high]
    return sorted({round(low * (high / low) ** (step / (count - 1))) for step in range(count)})
