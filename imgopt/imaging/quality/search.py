"""quality=auto: the lowest encoder quality whose output still scores the target, found in a few encodes.

The score is SSIMULACRA2 against the exact image about to be encoded (imgopt/imaging/quality/ssimulacra2.py).
Each probe is a real encode at a candidate quality, looked at cheaply (scales 1 and up, full resolution
predicted); the
search steps along the score-per-quality slope, then between the probes that bracket the target, and stops
as soon as a probe is predicted in ``[target + MARGIN, target + ACCEPT]``, or one predicted just under that
scores the target exactly. The chosen encode is then scored exactly, and if it falls short of the target
the quality is raised. The search is deterministic: the same image and target give the same quality.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PIL import Image

from imgopt.imaging.parallel import NO_HELPERS, Ahead, Helpers
from imgopt.imaging.quality.ssimulacra2 import MODELS, Estimate, Scorer

QUALITY_RANGE = (1, 100)


# Where the search starts: about the quality our corpus needs for a target of 75, for photos and for flat
# graphics (mostly flat areas: Scorer.flat_share above FLAT_SHARE), which need far less.
FIRST_GUESS = {"webp": 84, "avif": 61, "jpeg": 80}
FIRST_GUESS_FLAT = {"webp": 45, "avif": 40, "jpeg": 60}
FLAT_SHARE = 0.5


# Aim a little above the target (the cheap look can be off by about a point), and accept a probe that is
# at most this far above it, rather than spend another encode to save a few bytes.
MARGIN = 0.5
ACCEPT = 2.5
MAX_PROBES = 4
# Further probes when the exact score of the chosen one falls short of the target.
MAX_RAISES = 2
# A probe predicted this close under the target is scored exactly before a higher one is taken (the
# prediction's mean error is 0.6-1 point).
NEAR = 1.0
# A final score this far above the target is worth one more probe lower down.
CEILING = 3.0


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
    """The quality the search probes first."""
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

    def start(self, quality: int) -> None:
        """Encode ``quality`` on a helper now, if one is lent, for when the search asks for it."""
        if self.helpers.count and self.encode_beside is not None and quality not in self.ahead:
            self.ahead[quality] = self.helpers.ahead(partial(self.encode_beside, quality))


@dataclass
class _Probe:
    data: bytes
    estimate: Estimate
    # Decoded, for the newest probe only: keeping two saved a rare re-decode and cost ~10 bytes a pixel
    # more peak memory (bench/autoquality.py).
    image: Image.Image | None


def choose_quality(
    scorer: Scorer,
    output_format: str,
    target: float,
    encode_at: Callable[[int], bytes] | Encodes,
    helpers: Helpers = NO_HELPERS,
) -> Choice:
    """The lowest quality whose encode of the scorer's reference (by ``encode_at``) scores at least
    ``target``. When no quality reaches it, the best-scoring probe is returned with its score.

    The scorer is the caller's so that format=auto builds it once for WebP and AVIF. ``helpers`` share the
    scoring, and (with ``Encodes`` that can start a probe ahead) encode the probe a failing exact score
    would ask for next while it is scored: the same probes and scores, sooner.
    """
    if not isinstance(encode_at, Encodes):
        encode_at = Encodes(encode_at)
    search = _Search(scorer, output_format, target, encode_at, helpers)
    search.step_to_the_goal()
    if not search.passing():
        search.confirm()
    return search.settle()


class _Search:
    """The probes made so far (encoded, estimated) and the exact scores taken, for one image and target."""

    def __init__(
        self, scorer: Scorer, output_format: str, target: float, encode_at: Encodes, helpers: Helpers
    ) -> None:
        self.scorer = scorer
        self.helpers = helpers
        self.model = MODELS[output_format]
        self.target = target
        self.goal = target + MARGIN
        self.encode_at = encode_at
        flat = scorer.flat_share > FLAT_SHARE
        self.first = first_guess(output_format, flat=flat)
        self.slopes = (SLOPES_FLAT if flat else SLOPES)[output_format]
        self.probes: dict[int, _Probe] = {}
        self.checked: dict[int, float] = {}

    def probe(self, quality: int) -> None:
        data = self.encode_at(quality)
        image = _decoded(data)
        for earlier in self.probes.values():
            earlier.image = None
        self.probes[quality] = _Probe(data, self.scorer.estimate(image, self.model, self.helpers), image)

    def passes(self, quality: int) -> bool:
        """Score the probe exactly (once) and say whether it reaches the target."""
        if quality not in self.checked:
            found = self.probes[quality]
            if found.estimate.predicted < self.target:
                # Likely to fall short: the probe it would be raised to is encoded while it is scored.
                guess = _raised(self.probes, quality, found.estimate.predicted, self.goal, self.slopes)
                if guess not in self.probes:
                    self.encode_at.start(guess)
            image = found.image or _decoded(found.data)
            self.checked[quality] = self.scorer.score(image, found.estimate, self.helpers)
        return self.checked[quality] >= self.target

    def passing(self) -> list[int]:
        return sorted(quality for quality, score in self.checked.items() if score >= self.target)

    def step_to_the_goal(self) -> None:
        """Probe from the first guess until a probe is predicted in the accepted band, at most MAX_PROBES.
        A probe predicted just under the goal is scored exactly at once: that is cheaper than another
        probe, and when it passes, the search is over."""
        quality: int | None = self.first
        while quality is not None and quality not in self.probes:
            self.probe(quality)
            predicted = self.probes[quality].estimate.predicted
            if self.target - NEAR <= predicted < self.goal and self.passes(quality):
                return
            if len(self.probes) >= MAX_PROBES:
                return
            quality = _next_quality(self.probes, self.goal, self.target, self.slopes)

    def confirm(self) -> None:
        """Score the chosen probe exactly (or the one just under it, which may pass), raising the quality
        while it falls short, up to MAX_RAISES times; at worst score the best predicted probe."""
        chosen = _chosen(self.probes, self.goal)
        below = _near_miss(self.probes, chosen, self.target)
        if below is not None and self.passes(below):
            return
        raises = 0
        while not self.passes(chosen) and chosen < QUALITY_RANGE[1] and raises < MAX_RAISES:
            chosen = _raised(self.probes, chosen, self.checked[chosen], self.goal, self.slopes)
            if chosen not in self.probes:
                self.probe(chosen)
            raises += 1
        if not self.passing():
            self.passes(
                max(self.probes, key=lambda quality: (self.probes[quality].estimate.predicted, -quality))
            )

    def settle(self) -> Choice:
        """The lowest passing probe, after one careful probe lower when it scored far above the target; or
        the best-scoring one when none passes."""
        passing = self.passing()
        if not passing:
            best = max(self.checked, key=lambda quality: (self.checked[quality], -quality))
            return self._choice(best)
        chosen = passing[0]
        if self.checked[chosen] > self.target + CEILING:
            lower = _step_below(self.probes, chosen, self.checked[chosen], self.goal, self.slopes)
            if lower is not None:
                self.probe(lower)
                if self.passes(lower):
                    chosen = lower
        return self._choice(chosen)

    def _choice(self, quality: int) -> Choice:
        return Choice(quality, self.probes[quality].data, self.checked[quality], len(self.probes))


def _raised(probes: dict[int, _Probe], failed: int, score: float, goal: float, slopes: Slopes) -> int:
    """The next quality to check after ``failed`` scored ``score`` exactly, short of the target: towards
    the probe above it predicted to pass once the prediction's error at ``failed`` is taken off (itself, if
    the step reaches it), else up along the slope."""
    bias = score - probes[failed].estimate.predicted  # how far off the prediction is for this image
    above = sorted(q for q, probe in probes.items() if q > failed and probe.estimate.predicted + bias >= goal)
    if above:
        guess = _secant(failed, score, above[0], probes[above[0]].estimate.predicted + bias, goal)
        return max(failed + 1, min(above[0], math.ceil(guess)))
    step = math.ceil((goal - score) / _slope(slopes, score))
    return min(QUALITY_RANGE[1], failed + max(1, step))


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _chosen(probes: dict[int, _Probe], goal: float) -> int:
    passing = [quality for quality, probe in probes.items() if probe.estimate.predicted >= goal]
    if passing:
        return min(passing)
    return max(probes, key=lambda quality: (probes[quality].estimate.predicted, -quality))


def _step_below(
    probes: dict[int, _Probe], chosen: int, score: float, goal: float, slopes: Slopes
) -> int | None:
    """A quality under ``chosen`` (scored ``score``, well above the goal) that should land near the goal,
    above every probe already known to fall short; None when there is no room."""
    floor = max((quality for quality in probes if quality < chosen), default=QUALITY_RANGE[0] - 1)
    # A careful step (twice the usual slope): overshooting costs the probe for nothing.
    lower = math.floor(chosen - (score - goal) / (2 * _slope(slopes, score)))
    lower = max(floor + 1, min(chosen - 1, lower))
    return lower if lower > floor and lower not in probes else None


def _near_miss(probes: dict[int, _Probe], chosen: int, target: float) -> int | None:
    """The highest probe below ``chosen`` predicted within NEAR of the target, if any."""
    near = [
        quality
        for quality, probe in probes.items()
        if quality < chosen and target - NEAR <= probe.estimate.predicted < target + MARGIN
    ]
    return max(near, default=None)


def _next_quality(probes: dict[int, _Probe], goal: float, target: float, slopes: Slopes) -> int | None:
    """The next quality to try, or None when the probes already answer the question."""
    predicted = {quality: probe.estimate.predicted for quality, probe in probes.items()}
    passing = sorted(quality for quality, score in predicted.items() if score >= goal)
    if not passing:
        guess = _step_up(predicted, goal, slopes)
    elif predicted[passing[0]] <= target + ACCEPT:
        return None
    else:
        guess = _step_down(predicted, passing, goal, slopes)
    return None if guess is None or guess in probes else guess


def _step_up(predicted: dict[int, float], goal: float, slopes: Slopes) -> int | None:
    """Every probe falls short: go up from the highest along the slope."""
    failing = sorted(predicted)
    top = failing[-1]
    if top >= QUALITY_RANGE[1]:
        return None
    slope = _own_slope(failing[-2:], predicted) or _slope(slopes, predicted[top])
    return min(QUALITY_RANGE[1], math.ceil(top + (goal - predicted[top]) / slope))


def _step_down(predicted: dict[int, float], passing: list[int], goal: float, slopes: Slopes) -> int | None:
    """The lowest passing probe is well above the goal: interpolate towards a failing one, or go down."""
    best = passing[0]
    below = [quality for quality, score in predicted.items() if score < goal and quality < best]
    if below:
        lower = max(below)
        if best - lower <= 1:
            return None
        guess = _secant(lower, predicted[lower], best, predicted[best], goal)
        return max(lower + 1, min(best - 1, math.ceil(guess)))
    if best <= QUALITY_RANGE[0]:
        return None
    slope = _own_slope(passing[:2], predicted) or _slope(slopes, predicted[best])
    return max(QUALITY_RANGE[0], math.floor(best - (predicted[best] - goal) / slope))


def _secant(q1: int, s1: float, q2: int, s2: float, goal: float) -> float:
    if s2 <= s1:
        return (q1 + q2) / 2
    return q1 + (goal - s1) * (q2 - q1) / (s2 - s1)


def _own_slope(qualities: list[int], predicted: dict[int, float]) -> float | None:
    """The image's own slope between two probes (qualities in increasing order), if it is a usable one."""
    if len(qualities) < 2:
        return None
    first, second = qualities[0], qualities[1]
    slope = (predicted[second] - predicted[first]) / (second - first)
    return slope if slope > 0.05 else None


def _slope(slopes: Slopes, score: float) -> float:
    for ceiling, slope in slopes:
        if score < ceiling:
            return slope
    return slopes[-1][1]
