"""The output step: encode at a fixed quality, at the quality a perceptual target needs (quality=auto), or
in whichever of WebP and AVIF is smaller (format=auto)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from PIL import Image

from imgopt.imaging.codecs import Frame, encode, flattened_for_jpeg
from imgopt.imaging.limits import output_formats_that_fit
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.parallel import NO_HELPERS, Helpers
from imgopt.imaging.quality.prediction import predict_quality
from imgopt.imaging.quality.search import Encodes, choose_quality, first_guess
from imgopt.imaging.quality.ssimulacra2 import Scorer, scale_count
from imgopt.imaging.settings import PipelineSettings


@dataclass(frozen=True)
class Encoded:
    """Encoded bytes and what made them."""

    data: bytes
    format: str
    # The quality used (what a caller would send to get these bytes), or None for lossless outputs.
    quality: int | None
    # SSIMULACRA2 of the bytes against the image encoded, when quality=auto measured it.
    score: float | None
    # The encodes quality=auto's search made in this format, these bytes' included (1: the prediction hit).
    probes: int | None = None


def encode_output(
    frames: list[Frame], loop: int, options: ConvertOptions, settings: PipelineSettings, *, threads: int = 1
) -> Encoded:
    """Encode the frames as ``options`` ask; format=auto returns the smaller of WebP and AVIF. ``threads``
    go to an encoder that can use them, or, with quality=auto, to the search (``_auto_quality``)."""
    formats = output_formats_that_fit(frames[0].image.size, options.format)
    # Under 8 pixels a side SSIMULACRA2 has nothing to compare: such outputs get the default quality.
    if options.auto_quality and scale_count(frames[0].image.size):
        with Helpers(threads - 1) as helpers:
            candidates = _AutoQuality(frames, loop, options, settings, threads).run(formats, helpers)
    else:
        candidates = [
            _fixed_quality(frames, loop, replace(options, format=fmt), settings, threads) for fmt in formats
        ]
    return min(candidates, key=lambda candidate: len(candidate.data))


def _fixed_quality(
    frames: list[Frame], loop: int, options: ConvertOptions, settings: PipelineSettings, threads: int
) -> Encoded:
    quality = None if options.lossless or options.format == "png" else options.quality
    return Encoded(encode(frames, loop, options, settings, threads), options.format, quality, None)


@dataclass(frozen=True)
class _AutoQuality:
    """quality=auto in each format: the quality predicted from a sample of the frame is encoded and verified
    first (imgopt/imaging/quality/prediction.py). A lent thread (a helper) builds the scorer while the
    predicted probe encodes (or, for a frame too small to sample, encodes the probe a photo starts with
    while the scorer is built), then shares the scoring; for format=auto, it runs the second format's
    search. The probes, scores and choices are those of one thread: only sooner."""

    frames: list[Frame]
    loop: int
    options: ConvertOptions
    settings: PipelineSettings
    threads: int

    @property
    def target(self) -> float:
        return self.options.target if self.options.target is not None else self.settings.auto_quality_target

    def run(self, formats: Sequence[str], helpers: Helpers) -> list[Encoded]:
        reference = _reference(self.frames[0].image, self.options)
        if len(formats) > 1:
            scorer = Scorer(reference)
            if helpers.count:
                scorer.prepare()  # once, before both searches read it
            own = bool(helpers.count)

            def search(fmt: str) -> Encoded:
                predicted = self._predicted(fmt, reference)
                return self._search(fmt, scorer, self._encoder(fmt, 1, own=own), NO_HELPERS, predicted)

            return helpers.map(search, formats)
        (fmt,) = formats
        encodes = Encodes(
            self._encoder(fmt, self.threads), self._encoder(fmt, 1, own=bool(helpers.count)), helpers
        )
        predicted = self._predicted(fmt, reference)
        if predicted is None:
            encodes.start(first_guess(fmt, flat=False))  # a photo's first probe, while the scorer is built
            scorer = _built(reference, prepared=bool(helpers.count))
        else:
            building = helpers.ahead(partial(_built, reference, prepared=bool(helpers.count)))
            # From a copy while a helper reads the frame for the scorer.
            encodes.keep(predicted, self._encoder(fmt, self.threads, own=bool(helpers.count))(predicted))
            scorer = building.result()
        return [self._search(fmt, scorer, encodes, helpers, predicted)]

    def _predicted(self, fmt: str, reference: Image.Image) -> int | None:
        return predict_quality(reference, fmt, self.target, self._image_encoder(fmt))

    def _encoder(self, fmt: str, threads: int, *, own: bool = False) -> Callable[[int], bytes]:
        """Encodes the first frame in ``fmt`` at a given quality. ``own``: each encode from a copy of the
        frame, for encodes beside others (Pillow's save keeps the encoder's settings on the image saved)."""
        frame = self.frames[0]
        encode_image = self._image_encoder(fmt, threads)

        def encode_at(quality: int) -> bytes:
            return encode_image(frame.image.copy() if own else frame.image, quality)

        return encode_at

    def _image_encoder(self, fmt: str, threads: int = 1) -> Callable[[Image.Image, int], bytes]:
        """Encodes any still image in ``fmt`` at a given quality, with the request's other options."""
        as_format = replace(self.options, format=fmt)

        def encode_image(image: Image.Image, quality: int) -> bytes:
            still = [Frame(image, self.frames[0].duration)]
            return encode(still, self.loop, replace(as_format, quality=quality), self.settings, threads)

        return encode_image

    def _search(
        self,
        fmt: str,
        scorer: Scorer,
        encode_at: Callable[[int], bytes] | Encodes,
        helpers: Helpers,
        predicted: int | None,
    ) -> Encoded:
        choice = choose_quality(scorer, fmt, self.target, encode_at, helpers, predicted=predicted)
        if len(self.frames) == 1:
            data = choice.data
        else:  # an animation: searched on its first frame, encoded whole at the quality found
            whole = replace(self.options, format=fmt, quality=choice.quality)
            data = encode(self.frames, self.loop, whole, self.settings, self.threads)
        return Encoded(data, fmt, choice.quality, round(choice.score, 2), choice.probes)


def _built(reference: Image.Image, *, prepared: bool) -> Scorer:
    """A scorer of ``reference``; ``prepared`` for its first exact score when a helper has time for it."""
    scorer = Scorer(reference)
    if prepared:
        scorer.prepare()
    return scorer


def _reference(image: Image.Image, options: ConvertOptions) -> Image.Image:
    """The image as the encoder will see it (JPEG: flattened on white; format=auto compares WebP and AVIF,
    which see the same image, so one scorer serves both)."""
    return _as_reference(flattened_for_jpeg(image) if options.format == "jpeg" else image)


def _as_reference(image: Image.Image) -> Image.Image:
    """The image as the encoders see it: RGB, or RGBA when it has transparency."""
    return (
        image
        if image.mode in ("RGB", "RGBA")
        else image.convert("RGBA" if "A" in image.getbands() else "RGB")
    )
