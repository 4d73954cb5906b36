"""quality=auto: the lowest encoder quality whose output still scores the target, found in a few encodes.

The score is SSIMULACRA2 against the exact image about to be encoded (imgopt/imaging/quality/ssimulacra2.py).
The first probe is at the quality predicted for this frame (imgopt/imaging/quality/prediction.py), or, for a
frame too small to sample, at a fixed first guess for photos or flat graphics. Each probe is a real encode,
scored exactly; the search ends at the first whose score falls in ``[target, target + ACCEPT]``. A miss is
searched from: one point steps along the score-per-quality slope (``SLOPES``) towards the band's middle, two
or more take the secant through the latest two, inside the qualities already known to pass and to fail. The
answer is the lowest passing probe (the best-scoring one when no quality reaches the target). The search is
deterministic: the same image, target and prediction give the same quality.

With a thread lent, the probe a miss would ask for next is encoded while the miss is scored: its estimate
(scales 1 and up, full resolution predicted, corrected by how far this image's earlier estimates were from
their exact scores) comes first and names it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PIL import Image

from imgopt.imaging.parallel import NO_HELPERS, Ahead, Helpers
from imgopt.imaging.quality.ssimulacra2 import MODELS, Scorer

QUALITY_RANGE = (1, 100)


# Where the search starts without a prediction: about the quality our corpus needs for a target of 75, for
# photos and for flat graphics (mostly flat areas: Scorer.flat_share above FLAT_SHARE), which need far less.
FIRST_GUESS = {"webp": 84, "avif": 61, "jpeg": 80}
FIRST_GUESS_FLAT = {"webp": 45, "avif": 40, "jpeg": 60}
FLAT_SHARE = 0.5


# Accept a probe at most this far above the target, rather than spend another encode to save a few bytes.
ACCEPT = 2.5
# Probes at most, the first included; then the lowest passing one is the answer.
MAX_PROBES = 6


# Score points gained per quality step, by the score already reached (medians measured on the corpus
# photos and on generated graphics, bench/autoquality.py --fit), used until two probes give a slope of the
# image's own. Photos climb steeply through the 65-80 band in WebP; graphics flatten out early.
Slopes = tuple[tuple[float, float], ...]
SLOPES: dict[str, Slopes] = {
    "webp": ((65, 0.5), (80, 1.1), (101, 0.8)),
    "avif": ((65, 1.25), (75, 0.9), (85, 0.5), (101, 0.35)),
    "jpeg": ((55, 0.8), (70, 0.6), (80, 0.4), (101, 0.25)),
}
SLOPES_FLAT: dict[str, Slopes] = {
    "webp": ((55, 0.7), (70, 0.55), (80, 0.35), (101, 0.25)),
    "avif": ((55, 1.4), (65, 0.9), (75, 0.65), (85, 0.3), (101, 0.15)),
    "jpeg": ((55, 0.8), (70, 0.6), (80, 0.4), (101, 0.25)),
}


def first_guess(output_format: str, *, flat: bool) -> int:
    """The quality the search probes first when nothing was predicted."""
    return (FIRST_GUESS_FLAT if flat else FIRST_GUESS)[output_format]


@dataclass(frozen=True)
class Choice:
    """What the search settled on."""

    quality: int
    data: bytes
    score: float
    probes: int


class Encodes:
    """The probes' encoder: ``encode_at`` on the calling thread, or a probe ``start``ed ahead on a helper
    by ``encode_beside`` (which must not share state with ``encode_at``), collected when it is asked for."""

    def __init__(
        self,
        encode_at: Callable[[int], bytes],
        encode_beside: Callable[[int], bytes] | None = None,
        helpers: Helpers = NO_HELPERS,
    ) -> None:
        self.encode_at = encode_at
        self.encode_beside = encode_beside
        self.helpers = helpers
        self.ahead: dict[int, Ahead[bytes]] = {}

    def __call__(self, quality: int) -> bytes:
        started = self.ahead.pop(quality, None)
        return started.result() if started is not None else self.encode_at(quality)

    def keep(self, quality: int, data: bytes) -> None:
        """``data`` is ``quality``'s encode, made already."""
        self.ahead[quality] = Ahead(lambda: data, None)

    def ahead_possible(self) -> bool:
        return bool(self.helpers.count and self.encode_beside is not None)

    def start(self, quality: int) -> None:
        """Encode ``quality`` on a helper now, if one is lent, for when the search asks for it."""
        if self.ahead_possible() and quality not in self.ahead:
            self.ahead[quality] = self.helpers.ahead(partial(self.encode_beside, quality))


def choose_quality(
    scorer: Scorer,
    output_format: str,
    target: float,
    encode_at: Callable[[int], bytes] | Encodes,
    helpers: Helpers = NO_HELPERS,
    *,
    predicted: int | None = None,
) -> Choice:
    """The lowest quality whose encode of the scorer's reference (by ``encode_at``) scores at least
    ``target``, probing ``predicted`` first if given. When no quality reaches it, the best-scoring probe is
    returned with its score.

    The scorer is the caller's so that format=auto builds it once for WebP and AVIF. ``helpers`` share the
    scoring, and (with ``Encodes`` that can start a probe ahead) encode the probe a miss would ask for next
    while the miss is scored: the same probes and scores, sooner.
    """
    if not isinstance(encode_at, Encodes):
        encode_at = Encodes(encode_at)
    flat = scorer.flat_share > FLAT_SHARE
    search = _Search(scorer, output_format, target, encode_at, helpers, flat=flat)
    quality: int | None = predicted if predicted is not None else first_guess(output_format, flat=flat)
    while quality is not None:
        if search.probe(quality):
            break
        quality = search.next_quality() if len(search.scores) < MAX_PROBES else None
    return search.choice()


@dataclass(frozen=True)
class _Point:
    quality: int
    score: float


class _Search:
    """The probes made so far (each encoded and scored exactly), for one image and target."""

    def __init__(
        self,
        scorer: Scorer,
        output_format: str,
        target: float,
        encode_at: Encodes,
        helpers: Helpers,
        *,
        flat: bool,
    ) -> None:
        self.scorer = scorer
        self.helpers = helpers
        self.model = MODELS[output_format]
        self.target = target
        self.aim = target + ACCEPT / 2
        self.encode_at = encode_at
        self.slopes = (SLOPES_FLAT if flat else SLOPES)[output_format]
        self.data: dict[int, bytes] = {}
        self.scores: dict[int, float] = {}
        self.latest: list[_Point] = []
        # How far this image's exact scores were from their estimates, on average so far.
        self.bias = 0.0

    def probe(self, quality: int) -> bool:
        """Encode and score ``quality`` exactly; True when it lands in the accepted band."""
        data = self.data[quality] = self.encode_at(quality)
        image = _decoded(data)
        estimate = self.scorer.estimate(image, self.model, self.helpers)
        if self.encode_at.ahead_possible() and estimate.predicted + self.bias < self.target:
            # Likely a miss: the probe it would ask for is encoded while it is scored.
            ahead = self._next(_Point(quality, estimate.predicted + self.bias))
            if ahead is not None:
                self.encode_at.start(ahead)
        score = self.scores[quality] = self.scorer.score(image, estimate, self.helpers)
        self.bias += (score - estimate.predicted - self.bias) / len(self.scores)
        self.latest = [*self.latest[-1:], _Point(quality, score)]
        return self.target <= score <= self.target + ACCEPT

    def next_quality(self) -> int | None:
        """Where to probe after a miss, or None when the probes already answer the question."""
        return self._next(self.latest[-1])

    def _next(self, last: _Point) -> int | None:
        """The next quality after ``last`` (scored, or about to be), inside the qualities known to pass
        and to fail; None when there is none left between them."""
        failing = [quality for quality, score in self.scores.items() if score < self.target]
        passing = [quality for quality, score in self.scores.items() if score >= self.target]
        if last.quality not in self.scores:
            (failing if last.score < self.target else passing).append(last.quality)
        floor = max(failing, default=QUALITY_RANGE[0] - 1)
        ceiling = min(passing, default=QUALITY_RANGE[1] + 1)
        if ceiling - floor <= 1:
            return None
        guess = self._towards_the_aim(last)
        step = math.ceil(guess) if guess > last.quality else math.floor(guess)
        return max(floor + 1, min(ceiling - 1, step))

    def _towards_the_aim(self, last: _Point) -> float:
        """The quality expected to score the band's middle: the secant through the latest two probes when
        they slope upwards, else a step along the usual slope halfway there (the curve flattens as the
        score rises)."""
        earlier = [point for point in self.latest if point.quality != last.quality]
        if earlier:
            other = earlier[-1]
            slope = (last.score - other.score) / (last.quality - other.quality)
            if slope > 0.05:
                return last.quality + (self.aim - last.score) / slope
        return last.quality + (self.aim - last.score) / _slope(self.slopes, (last.score + self.aim) / 2)

    def choice(self) -> Choice:
        """The lowest passing probe; the best-scoring one when none passes."""
        passing = [quality for quality, score in self.scores.items() if score >= self.target]
        if passing:
            quality = min(passing)
        else:
            quality = max(self.scores, key=lambda quality: (self.scores[quality], -quality))
        return Choice(quality, self.data[quality], self.scores[quality], len(self.scores))


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _slope(slopes: Slopes, score: float) -> float:
    for ceiling, slope in slopes:
        if score < ceiling:
            return slope
    return slopes[-1][1]
