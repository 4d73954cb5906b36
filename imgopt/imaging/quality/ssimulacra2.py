"""How different an encoded image looks from the image it was encoded from: SSIMULACRA2, made fast.

SSIMULACRA2 (libjxl's metric; 100 is identical, ~90 visually lossless, ~70 high quality) compares two images
in the XYB colour space at six scales, with 108 weighted terms. Most weights are zero or tiny: at full
resolution only the luminance channel counts, the blue-yellow channel only from 1/8 scale, the smallest
scale not at all. ``Scorer`` computes only the terms whose weight is at least ``MIN_WEIGHT`` (the rest move a
score by under 0.05; docs/fidelity.md measures it against the reference implementation), keeps the
reference's coarse scales between scores and works full resolution a band of rows at a time: an exact
1200x900 score takes ~42 ms here (the estimate ~22). From the first exact score on, the reference's
full-resolution rows and statistics are kept too (~16 bytes a pixel more than the coarse scales' ~11), and
each later exact score takes ~26 ms.

numpy (~14 MiB in a worker) is imported on first use, so workers that never see quality=auto never load it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

from PIL import Image

from imgopt.imaging.colour import SRGB_TO_LINEAR
from imgopt.imaging.parallel import NO_HELPERS, Helpers

# Composite transparent images over this grey before scoring: what is invisible cannot look different.
BACKGROUND = (128, 128, 128)


# Local luminance variance (at half size, in XYB units) below which a pixel counts as flat: photos keep
# some texture even in skies (0-32% flat on our corpus), graphics are 69-91% flat.
FLAT_VARIANCE = 1e-5


# Terms weighted less than this are not computed.
MIN_WEIGHT = 0.01


# SSIMULACRA2's constants (libjxl tools/ssimulacra2.cc, as the PyPI ssimulacra2 package has them).
OPSIN = (
    (0.30, 1.0 - 0.078 - 0.30, 0.078),
    (0.23, 1.0 - 0.078 - 0.23, 0.078),
    (0.24342268924547819, 0.20476744424496821, 1.0 - 0.24342268924547819 - 0.20476744424496821),
)
OPSIN_BIAS = 0.0037930732552754493
C2 = 0.0009
SCALES = 6
SIGMA = 1.5
RADIUS = 5  # the reference's kernel: round(3.2795 * SIGMA + 0.2546)
WINDOW = 2 * RADIUS + 1
X, Y, B = 0, 1, 2


@dataclass
class _Level:
    """One scale of the reference: the channels that count there, and what every score needs of them."""

    scale: int
    channels: tuple[int, ...]
    xyb: Any
    mu: Any
    variance: Any
    # 1 + |xyb - mu|: the reference's side of the edge (ringing and blurring) maps.
    edges: Any


@dataclass(frozen=True)
class Estimate:
    """A cheap look at an encoding: the exact raw sum over scales 1 and up, and the score predicted."""

    coarse_raw: float
    scale1_raw: float
    predicted: float


@dataclass(frozen=True)
class FinestScaleModel:
    """Predicts full resolution's share of the raw sum from the coarser scales' (fitted per format)."""

    coarse: float
    scale1: float
    constant: float

    def full_raw(self, coarse_raw: float, scale1_raw: float) -> float:
        return self.coarse * coarse_raw + self.scale1 * scale1_raw + self.constant


# Fitted on the corpus photos and generated graphics at 1200 px, every 3rd quality, scores 50-95
# (bench/autoquality.py --fit): mean absolute error of the prediction 0.63 (WebP), 1.00 (AVIF), 1.21 (JPEG).
MODELS = {
    "webp": FinestScaleModel(1.0355, 1.9925, 0.1096),
    "avif": FinestScaleModel(0.9544, 3.0992, 0.1196),
    "jpeg": FinestScaleModel(1.0803, 2.3035, 0.1628),
}


class Scorer:
    """Scores any number of encodings of one reference image, each the reference's size.

    ``estimate`` looks at scales 1 and up only (a quarter of the pixels) and predicts the score;
    ``score`` adds full resolution and is exact. The coarse scales of the reference are kept (about 11
    bytes a pixel of the image), and its full resolution once an exact score needed it; the distorted
    image's full resolution is worked through a band of rows at a time.
    """

    def __init__(self, reference: Image.Image) -> None:
        np = _numpy()
        self.reference = _opaque(reference)
        self.scales = scale_count(self.reference.size)
        self.coarse: list[_Level] = []
        self.fine: list[tuple[Any, tuple[Any, Any, Any]]] | None = None
        linear = _linear(np, self.reference, halved=True) if self.scales > 1 else None
        for scale in range(1, self.scales):
            channels = _channels(scale, self.scales)
            if scale == 1:  # luminance at half size tells how flat the image is, weighted or not
                channels = tuple(sorted({*channels, Y}))
            if channels:
                self.coarse.append(_level(np, _xyb(np, linear, channels), channels, scale))
            if scale < self.scales - 1:
                linear = _downsample(np, linear)
        # How much of the image is flat (no local detail at half size): graphics are mostly flat, photos not.
        self.flat_share = 1.0
        if self.coarse:
            luminance = self.coarse[0].variance[self.coarse[0].channels.index(Y)]
            self.flat_share = float((luminance < FLAT_VARIANCE).mean())

    def estimate(
        self, distorted: Image.Image, model: FinestScaleModel, helpers: Helpers = NO_HELPERS
    ) -> Estimate:
        """Scales 1 and up exactly, full resolution predicted by ``model``."""
        coarse_raw, scale1 = self._coarse_raw(distorted, helpers)
        return Estimate(coarse_raw, scale1, _to_score(model.full_raw(coarse_raw, scale1)))

    def score(
        self, distorted: Image.Image, estimate: Estimate | None = None, helpers: Helpers = NO_HELPERS
    ) -> float:
        """The exact SSIMULACRA2 score of ``distorted`` (reusing ``estimate``'s coarse scales if given).
        ``helpers`` take some of the bands; each band's sums are added in order all the same."""
        np = _numpy()
        if not self.scales:
            return 100.0  # as the reference: under 8 pixels a side there is nothing to compare
        coarse_raw = estimate.coarse_raw if estimate is not None else self._coarse_raw(distorted, helpers)[0]
        distorted = _opaque(distorted)
        width, height = distorted.size
        channels = _channels(0, self.scales)

        def band_sums(band: tuple[tuple[int, int], tuple[Any, tuple[Any, Any, Any]]]) -> dict:
            (top, bottom), (rows, stats) = band
            maps = _band_maps(np, rows, _fine_rows(np, distorted, top, bottom, self.scales), stats)
            return _band_sums(maps, channels, 0, self.scales)

        bands = list(zip(_bands(height), self.prepare(), strict=True))
        fine = _pooled_sums(helpers.map(band_sums, bands), channels, 0, self.scales, width * height)
        return _to_score(fine + coarse_raw)

    def prepare(self) -> list[tuple[Any, tuple[Any, Any, Any]]]:
        """The reference's full-resolution rows and statistics, band by band: made at the first exact score
        (or ahead of it, while a probe encodes on another thread) and kept for the next ones (a search
        scores 1.6-1.9 times); an estimate needs none."""
        if self.fine is None:
            np = _numpy()
            height = self.reference.height
            fine = []
            for top, bottom in _bands(height):
                rows = _fine_rows(np, self.reference, top, bottom, self.scales)
                fine.append((rows, _reference_stats(np, rows)))
            self.fine = fine
        return self.fine

    def _coarse_raw(self, distorted: Image.Image, helpers: Helpers) -> tuple[float, float]:
        """The raw sum over scales 1 and up, and scale 1's share of it. With a helper, scale 1 (most of
        the work) is computed beside the coarser ones."""
        np = _numpy()
        if not self.coarse:
            return 0.0, 0.0
        linear = _linear(np, _opaque(distorted), halved=True, helpers=helpers)
        first, *rest = self.coarse

        def raw_at(level: _Level, planes: Any) -> float:
            return _coarse_scale_raw(np, level, _xyb(np, planes, level.channels), self.scales)

        scale1 = helpers.ahead(partial(raw_at, first, linear)) if first.scale == 1 else None
        at = 1
        raws = {}
        for level in self.coarse if scale1 is None else rest:
            for _ in range(level.scale - at):
                linear = _downsample(np, linear)
            at = level.scale
            raws[level.scale] = raw_at(level, linear)
        if scale1 is not None:
            raws[1] = scale1.result()
        return sum(raws[scale] for scale in sorted(raws)), raws.get(1, 0.0)


def _level(np: Any, xyb: Any, channels: tuple[int, ...], scale: int) -> _Level:
    """A coarse scale of the reference, with what every score needs of it."""
    height = xyb.shape[1]
    mu, variance, edges = _reference_stats(np, _with_halo(np, xyb, 0, height, height))
    return _Level(scale, channels, xyb, mu, variance, edges)


def scale_count(size: tuple[int, int]) -> int:
    """How many scales SSIMULACRA2 looks at: halvings while both sides are at least 8, at most SCALES."""
    width, height = size
    count = 0
    while count < SCALES and min(width, height) >= 8:
        count += 1
        width, height = (width + 1) // 2, (height + 1) // 2
    return count


def _numpy() -> Any:
    import numpy

    return numpy


_TABLES: dict[str, Any] = {}


def _opaque(image: Image.Image) -> Image.Image:
    """The image in RGB; transparency composited over BACKGROUND."""
    if image.mode == "RGB":
        return image
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        opaque = Image.new("RGB", image.size, BACKGROUND)
        opaque.paste(rgba, mask=rgba.getchannel("A"))
        return opaque
    return image.convert("RGB")


def _lut(np: Any) -> Any:
    """sRGB 8-bit value -> linear light, float32."""
    if "lut" not in _TABLES:
        _TABLES["lut"] = np.array(SRGB_TO_LINEAR, dtype=np.float32)
    return _TABLES["lut"]


def _linear(np: Any, image: Image.Image, *, halved: bool = False, helpers: Helpers = NO_HELPERS) -> Any:
    """Linear-light planes (3, height, width) of an RGB image, float32.

    ``halved`` gives them at half size (``_downsample``), converting a channel at a time to spare memory
    (``helpers`` take some of the channels).
    """
    lut = _lut(np)
    if halved:
        return np.concatenate(
            helpers.map(lambda band: _downsample(np, lut.take(np.asarray(band))[None]), image.split())
        )
    return np.stack([lut.take(np.asarray(band)) for band in image.split()])


def _fine_rows(np: Any, image: Image.Image, top: int, bottom: int, scales: int) -> Any:
    """Full resolution's XYB planes of rows top..bottom with the RADIUS rows the blur reads around them
    (``_with_halo``)."""
    width, height = image.size
    first, last = max(0, top - RADIUS), min(height, bottom + RADIUS)
    rows = np.asarray(image.crop((0, first, width, last)))
    linear = _lut(np).take(rows.transpose(2, 0, 1))  # planes, each contiguous
    return _with_halo(np, _xyb(np, linear, _channels(0, scales)), top, bottom, height)


def _xyb(np: Any, linear: Any, channels: tuple[int, ...]) -> Any:
    """SSIMULACRA2's positive XYB planes, only ``channels`` of them, stacked (len(channels), h, w)."""
    bias, root = np.float32(OPSIN_BIAS), np.float32(math.cbrt(OPSIN_BIAS))

    def mixed(row: int) -> Any:
        (red, green, blue) = OPSIN[row]
        plane = np.float32(red) * linear[0] + np.float32(green) * linear[1]
        plane += np.float32(blue) * linear[2]
        plane += bias
        np.maximum(plane, 0, out=plane)
        np.cbrt(plane, out=plane)
        plane -= root
        return plane

    first, second = mixed(0), mixed(1)
    y = (first + second) * np.float32(0.5)
    planes = {}
    if X in channels:
        planes[X] = (first - second) * np.float32(0.5 * 14) + np.float32(0.42)
    if Y in channels:
        planes[Y] = y + np.float32(0.01)
    if B in channels:
        planes[B] = mixed(2) - y + np.float32(0.55)
    return np.stack([planes[channel] for channel in channels])


def _downsample(np: Any, planes: Any) -> Any:
    """Halve by averaging 2x2 blocks (an odd last row or column averages with itself)."""
    if planes.shape[1] % 2:
        planes = np.concatenate([planes, planes[:, -1:]], axis=1)
    if planes.shape[2] % 2:
        planes = np.concatenate([planes, planes[:, :, -1:]], axis=2)
    total = planes[:, ::2, ::2] + planes[:, 1::2, ::2]
    total += planes[:, ::2, 1::2]
    total += planes[:, 1::2, 1::2]
    total *= np.float32(0.25)
    return total


def _with_halo(np: Any, rows: Any, top: int, bottom: int, height: int) -> Any:
    """Planes of rows top..bottom of an image ``height`` rows high, with RADIUS more rows on each side,
    mirrored at the image's top and bottom (d c b a | a b c d). ``rows`` holds the image's rows from
    max(0, top - RADIUS) to min(height, bottom + RADIUS)."""
    wanted = np.arange(top - RADIUS, bottom + RADIUS)
    wanted = np.where(wanted < 0, -wanted - 1, wanted)
    wanted = np.where(wanted >= height, 2 * height - wanted - 1, wanted)
    return rows[:, wanted - max(0, top - RADIUS)]


def _blur_rows(np: Any, planes: Any) -> Any:
    """The reference's Gaussian (sigma 1.5, radius 5) of the rows between the RADIUS extra ones above and
    below that ``planes`` include; zero beyond the left and right edges, as the reference pads them (its
    arrays are transposed: it pads what it calls the height).

    Each plane's mean is taken out first and put back at the end: summed in float32, a plane's level would
    drown the small differences the metric is made of. Each pass is the dot product of every pixel's window
    with the kernel, which numpy hands to BLAS (the width pass on a transposed copy, so that both passes run
    down columns): as fast as scipy.ndimage's filter, without scipy.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    count, rows, width = planes.shape
    kernel = _kernel(np)
    levels = planes.mean(axis=(1, 2), dtype=np.float64).astype(np.float32)[:, None, None]
    # One name for every intermediate, so that no more than two are alive at once.
    work = planes - levels
    work = sliding_window_view(work, WINDOW, axis=1) @ kernel
    padded = np.zeros((count, width + 2 * RADIUS, rows - 2 * RADIUS), dtype=np.float32)
    padded[:, RADIUS : RADIUS + width] = work.transpose(0, 2, 1)
    del work
    work = sliding_window_view(padded, WINDOW, axis=1) @ kernel
    del padded
    work += levels * _edge_profile(np, width)[:, None]
    return np.ascontiguousarray(work.transpose(0, 2, 1))


def _edge_profile(np: Any, width: int) -> Any:
    """What the blur makes of a constant 1, by column: 1 inside, less within RADIUS of the left and right
    edges, where the reference pads with zeros."""
    padded = np.zeros(width + 2 * RADIUS, dtype=np.float64)
    padded[RADIUS : RADIUS + width] = 1.0
    return np.convolve(padded, _kernel(np).astype(np.float64), mode="valid").astype(np.float32)


def _kernel(np: Any) -> Any:
    """The Gaussian's WINDOW weights, normalised, float32."""
    if "kernel" not in _TABLES:
        weights = [math.exp(-0.5 * (offset / SIGMA) ** 2) for offset in range(-RADIUS, RADIUS + 1)]
        _TABLES["kernel"] = np.array([weight / sum(weights) for weight in weights], dtype=np.float32)
    return _TABLES["kernel"]


# Rows of full resolution worked on at once: the score's full-size temporaries then take a band, not the
# image.
BAND_ROWS = 128


def _bands(height: int) -> list[tuple[int, int]]:
    return [(top, min(height, top + BAND_ROWS)) for top in range(0, height, BAND_ROWS)]


def _coarse_scale_raw(np: Any, level: _Level, xyb: Any, scales: int) -> float:
    """A coarse scale's weighted share of the raw sum, against the reference's kept statistics."""
    height, width = xyb.shape[1:]
    maps = _band_maps(
        np,
        _with_halo(np, level.xyb, 0, height, height),
        _with_halo(np, xyb, 0, height, height),
        (level.mu, level.variance, level.edges),
    )
    return _pooled([maps], level.channels, level.scale, scales, width * height)


def _reference_stats(np: Any, reference: Any) -> tuple[Any, Any, Any]:
    """The reference's blurred mean, variance and 1 + |xyb - mean| (its side of the edge maps), for the
    rows that ``reference`` holds with RADIUS more around them (``_with_halo``)."""
    mu = _blur_rows(np, reference)
    variance = _blur_rows(np, reference * reference)
    variance -= mu * mu
    edges = np.abs(reference[:, RADIUS:-RADIUS] - mu)
    edges += np.float32(1)
    return mu, variance, edges


def _band_maps(
    np: Any,
    reference: Any,
    distorted: Any,
    stats: tuple[Any, Any, Any] | None = None,
) -> tuple[Any, Any]:
    """The SSIM map and the edge ratio map (the distorted image's edge over the reference's, minus 1) of a
    band, from both images' rows with RADIUS more around them (``_with_halo``); computed in place.
    ``stats``: the reference's (``_reference_stats``), when they are kept."""
    mu1, own, edges = stats if stats is not None else _reference_stats(np, reference)
    core = distorted[:, RADIUS:-RADIUS]
    mu2 = _blur_rows(np, distorted)
    covariance = _blur_rows(np, reference * distorted)
    variance = _blur_rows(np, distorted * distorted)
    work = mu1 * mu2
    covariance -= work
    covariance *= np.float32(2)
    covariance += np.float32(C2)  # the structure numerator
    np.multiply(mu2, mu2, out=work)
    variance -= work
    variance += own
    variance += np.float32(C2)  # the structure denominator
    np.subtract(mu1, mu2, out=work)
    np.square(work, out=work)
    np.subtract(np.float32(1), work, out=work)  # the mean term
    work *= covariance
    work /= variance
    np.subtract(np.float32(1), work, out=work)
    ssim = np.maximum(work, 0, out=work)
    ratio = np.subtract(core, mu2, out=covariance)
    np.abs(ratio, out=ratio)
    ratio += np.float32(1)
    ratio /= edges
    ratio -= np.float32(1)
    return ssim, ratio


def _pooled(bands: Any, channels: tuple[int, ...], scale: int, scales: int, pixels: int) -> float:
    """One scale's weighted share of SSIMULACRA2's raw sum from its (SSIM, edge ratio) maps, band by band:
    each map and its fourth power are summed, and the means and 4-norms taken from the sums at the end."""
    return _pooled_sums(
        [_band_sums(maps, channels, scale, scales) for maps in bands], channels, scale, scales, pixels
    )


def _band_sums(maps: tuple[Any, Any], channels: tuple[int, ...], scale: int, scales: int) -> dict:
    """One band's sum of each weighted term's map (or its fourth power)."""
    ssim, ratio = maps
    sums = {}
    for index, term, norm in _weighted_terms(channels, scale, scales):
        # ringing is the positive side of the edge ratio, blurring the negative one
        plane = ssim[index] if term == 0 else (ratio[index] if term == 1 else -ratio[index]).clip(0)
        if norm:
            plane = plane * plane
            plane *= plane
        sums[(index, term, norm)] = float(plane.sum(dtype="float64"))
    return sums


def _pooled_sums(bands: list[dict], channels: tuple[int, ...], scale: int, scales: int, pixels: int) -> float:
    """The weighted share from every band's sums, added band by band in order."""
    terms = _weighted_terms(channels, scale, scales)
    sums = dict.fromkeys(terms, 0.0)
    for band in bands:
        for key in terms:
            sums[key] += band[key]
    total = 0.0
    for (index, term, norm), weight in terms.items():
        mean = sums[(index, term, norm)] / pixels
        total += weight * (mean**0.25 if norm else mean)
    return total


def _weighted_terms(channels: tuple[int, ...], scale: int, scales: int) -> dict[tuple[int, int, int], float]:
    """(channel index, term, norm) -> weight for the terms that carry weight at this scale.

    Terms: 0 SSIM, 1 ringing (edges the reference lacks), 2 blurring (edges it has, lost); norms: 0 the
    mean, 1 the 4-norm."""
    terms = {}
    for index, channel in enumerate(channels):
        for norm in (0, 1):
            for term in range(3):
                weight = _weights(channel, scale, scales)[norm * 3 + term]
                if weight >= MIN_WEIGHT:
                    terms[(index, term, norm)] = weight
    return terms


def _weights(channel: int, scale: int, scales: int) -> tuple[float, ...]:
    """The six weights of a channel at a scale. The reference takes WEIGHTS in order over the scales it
    computed, so an image with fewer than SCALES scales uses them shifted: so do we."""
    start = (channel * scales + scale) * 6
    return WEIGHTS[start : start + 6]


def _channels(scale: int, scales: int) -> tuple[int, ...]:
    """The channels with a term that carries weight at this scale (at full size, with six scales: Y)."""
    return tuple(channel for channel in (X, Y, B) if max(_weights(channel, scale, scales)) >= MIN_WEIGHT)


# The 108 weights of SSIMULACRA2: per channel (X, Y, B), per scale (6), per norm (mean, 4-norm): SSIM,
# ringing, blurring.
WEIGHTS = (
    0.0, 0.0007376606707406586, 0.0,
    0.0, 0.0007793481682867309, 0.0,
    0.0, 0.0004371155730107379, 0.0,
    1.1041726426657346, 0.00066284834129271, 0.00015231632783718752,
    0.0, 0.0016406437456599754, 0.0,
    1.8422455520539298, 11.441172603757666, 0.0,
    0.0007989109436015163, 0.000176816438078653, 0.0,
    1.8787594979546387, 10.94906990605142, 0.0,
    0.0007289346991508072, 0.9677937080626833, 0.0,
    0.00014003424285435884, 0.9981766977854967, 0.00031949755934435053,
    0.0004550992113792063, 0.0, 0.0,
    0.0013648766163243398, 0.0, 0.0,
    0.0, 0.0, 0.0,
    7.466890328078848, 0.0, 17.445833984131262,
    0.0006235601634041466, 0.0, 0.0,
    6.683678146179332, 0.00037724407979611296, 1.027889937768264,
    225.20515300849274, 0.0, 0.0,
    19.213238186143016, 0.0011401524586618361, 0.001237755635509985,
    176.39317598450694, 0.0, 0.0,
    24.43300999870476, 0.28520802612117757, 0.0004485436923833408,
    0.0, 0.0, 0.0,
    34.77906344483772, 44.835625328877896, 0.0,
    0.0, 0.0, 0.0,
    0.0, 0.0, 0.0,
    0.0, 0.0008680556573291698, 0.0,
    0.0, 0.0, 0.0,
    0.0, 0.0005313191874358747, 0.0,
    0.00016533814161379112, 0.0, 0.0,
    0.0, 0.0, 0.0,
    0.0004179171803251336, 0.0017290828234722833, 0.0,
    0.0020827005846636437, 0.0, 0.0,
    8.826982764996862, 23.19243343998926, 0.0,
    95.1080498811086, 0.9863978034400682, 0.9834382792465353,
    0.0012286405048278493, 171.2667255897307, 0.9807858872435379,
    0.0, 0.0, 0.0,
    0.0005130064588990679, 0.0, 0.00010854057858411537,
)  # fmt: skip


def _to_score(raw: float) -> float:
    """SSIMULACRA2's mapping of the raw weighted sum to its 0-100 scale."""
    value = raw * 0.9562382616834844
    value = 2.326765642916932 * value - 0.020884521182843837 * value**2 + 6.248496625763138e-05 * value**3
    return 100.0 - 10.0 * value**0.6276336467831387 if value > 0 else 100.0
