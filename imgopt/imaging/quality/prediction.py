"""quality=auto's first probe: the quality predicted to reach the target, from one cheap encode of a sample.

The sample is a mosaic of square tiles cut at full resolution from across the frame (about an eighth of its
pixels, at least nine tiles): the encoders work on small blocks, so the tiles lose what the frame would
at the same quality, and SSIMULACRA2 scores them much as it scores the frame. The mosaic is encoded once,
at the search's first guess for its kind (photo, or flat graphic), and scored exactly; a line per format
and kind (``MODEL``, fitted by bench/quality_model.py on the corpus photos and made images) turns how far
that score is from the target into the quality the whole frame needs. Statistics of the frame alone
(detail, colours, the upload's own JPEG quality) told a photo that needs WebP 78 from one that needs 86 too
poorly to be worth an encode (docs/performance.md); the sample's own score does better.

WebP and AVIF are predicted (``PREDICTED``); JPEG's line hit too seldom to pay for its sample.

Frames under four times the mosaic (about 590,000 pixels: smaller than 1024x576) are not predicted: there
the sample would cost more than a better first probe saves, and the search starts at its fixed first
guess.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from imgopt.imaging.quality.search import FLAT_SHARE, first_guess
from imgopt.imaging.quality.ssimulacra2 import Scorer

TILE = 128  # a multiple of WebP's 16 px macroblocks and AVIF's 64 px superblocks
SHARE = 1 / 8
MIN_TILES = 9
QUALITY_RANGE = (1, 100)


@dataclass(frozen=True)
class Line:
    """quality = intercept + per_point x (the mosaic's score at the first guess - the target)."""

    intercept: float
    per_point: float

    def quality(self, score: float, target: float) -> int:
        value = self.intercept + self.per_point * (score - target)
        return max(QUALITY_RANGE[0], min(QUALITY_RANGE[1], math.ceil(value)))


# The formats whose first probe is predicted. bench/quality_model.py fits JPEG's line too, but it hit 30%
# of the held-out photo samples (docs/performance.md#quality-auto-predicted): JPEG's search starts at the
# fixed first guess.
PREDICTED = ("webp", "avif")

# Fitted by `python -m bench.quality_model ../shared/corpus/photos` (bench/results/quality_model.json): the
# photos' line on the photos, the flat graphics' on the images the mosaic calls flat. Keys: (format, flat),
# for the PREDICTED formats.
MODEL: dict[tuple[str, bool], Line] = {
    ("webp", False): Line(intercept=85.327, per_point=-1.015),
    ("webp", True): Line(intercept=41.389, per_point=-2.939),
    ("avif", False): Line(intercept=64.069, per_point=-1.575),
    ("avif", True): Line(intercept=26.866, per_point=-0.6),
}


def tile_grid(size: tuple[int, int]) -> tuple[int, int]:
    """Tiles across and down an even grid over a frame of ``size``: about SHARE of its pixels, at least
    MIN_TILES, in the frame's proportions; (0, 0) when they would be more than a quarter of it (then the
    sample costs more than a better first probe saves)."""
    width, height = size
    tiles = max(MIN_TILES, round(SHARE * width * height / (TILE * TILE)))
    if width * height < 4 * tiles * TILE * TILE:
        return 0, 0
    across = min(width // TILE, max(1, round(math.sqrt(tiles * width / height))))
    down = min(height // TILE, max(1, math.ceil(tiles / across)))
    return across, down


def tile_boxes(size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """The tiles' boxes, row by row, each centred on its cell of the grid."""
    width, height = size
    across, down = tile_grid(size)
    boxes = []
    for row in range(down):
        for column in range(across):
            left = min(width - TILE, max(0, round((column + 0.5) * width / across - TILE / 2)))
            top = min(height - TILE, max(0, round((row + 0.5) * height / down - TILE / 2)))
            boxes.append((left, top, left + TILE, top + TILE))
    return boxes


def mosaic(image: Image.Image) -> Image.Image | None:
    """The tiles side by side as they lie in the frame, or None when the frame is too small to sample."""
    across, down = tile_grid(image.size)
    if not across:
        return None
    sample = Image.new(image.mode, (across * TILE, down * TILE))
    for index, box in enumerate(tile_boxes(image.size)):
        sample.paste(image.crop(box), ((index % across) * TILE, (index // across) * TILE))
    return sample


def sample_score(
    sample: Image.Image, output_format: str, encode_image: Callable[[Image.Image, int], bytes]
) -> tuple[float, bool]:
    """The exact SSIMULACRA2 score of ``sample`` encoded at the first guess for its kind, and whether it is
    a flat graphic's (as the search tells them). Exact: with the estimate instead (~20 ms less at 1200 px),
    an earlier fit's held-out AVIF hit rate on photos fell from 53% to 33% (bench/quality_model.py)."""
    scorer = Scorer(sample)
    flat = scorer.flat_share > FLAT_SHARE
    with Image.open(
        io.BytesIO(encode_image(sample.copy(), first_guess(output_format, flat=flat)))
    ) as decoded:
        decoded.load()
        return scorer.score(decoded), flat


def predict_quality(
    image: Image.Image,
    output_format: str,
    target: float,
    encode_image: Callable[[Image.Image, int], bytes],
) -> int | None:
    """The quality predicted to bring ``image`` (the frame as the encoder gets it) to ``target`` in
    ``output_format``, or None when there is no model for the format or the frame is too small to sample."""
    sample = mosaic(image) if output_format in PREDICTED else None
    if sample is None:
        return None
    score, flat = sample_score(sample, output_format, encode_image)
    return MODEL[output_format, flat].quality(score, target)
