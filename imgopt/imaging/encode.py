"""The output step: encode at a fixed quality, at the quality a perceptual target needs (quality=auto), or
in whichever of WebP and AVIF is smaller (format=auto)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from PIL import Image

from imgopt.imaging.codecs import Frame, encode, flattened_for_jpeg
from imgopt.imaging.limits import output_formats_that_fit
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.quality.search import choose_quality
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


def encode_output(
    frames: list[Frame], loop: int, options: ConvertOptions, settings: PipelineSettings, *, threads: int = 1
) -> Encoded:
    """Encode the frames as ``options`` ask; format=auto returns the smaller of WebP and AVIF. ``threads``
    go to an encoder that can use them."""
    formats = output_formats_that_fit(frames[0].image.size, options.format)
    # Under 8 pixels a side SSIMULACRA2 has nothing to compare: such outputs get the default quality.
    scorer = (
        _scorer(frames[0].image, options)
        if options.auto_quality and scale_count(frames[0].image.size)
        else None
    )
    candidates = [
        _encode_as(frames, loop, replace(options, format=fmt), settings, scorer, threads=threads)
        for fmt in formats
    ]
    return min(candidates, key=lambda candidate: len(candidate.data))


def _scorer(image: Image.Image, options: ConvertOptions) -> Scorer:
    """A scorer of the image as the encoder will see it (JPEG: flattened on white; format=auto compares
    WebP and AVIF, which see the same image, so one scorer serves both)."""
    return Scorer(_as_reference(flattened_for_jpeg(image) if options.format == "jpeg" else image))


def _encode_as(
    frames: list[Frame],
    loop: int,
    options: ConvertOptions,
    settings: PipelineSettings,
    scorer: Scorer | None,
    *,
    threads: int,
) -> Encoded:
    if scorer is None:
        quality = None if options.lossless or options.format == "png" else options.quality
        return Encoded(encode(frames, loop, options, settings, threads), options.format, quality, None)
    target = options.target if options.target is not None else settings.auto_quality_target
    first = frames[0]

    def encode_still(quality: int) -> bytes:
        return encode([first], loop, replace(options, quality=quality), settings, threads)

    choice = choose_quality(scorer, options.format, target, encode_still)
    if len(frames) == 1:
        data = choice.data
    else:  # an animation: searched on its first frame, encoded whole at the quality found
        data = encode(frames, loop, replace(options, quality=choice.quality), settings, threads)
    return Encoded(data, options.format, choice.quality, round(choice.score, 2))


def _as_reference(image: Image.Image) -> Image.Image:
    """The image as the encoders see it: RGB, or RGBA when it has transparency."""
    return (
        image
        if image.mode in ("RGB", "RGBA")
        else image.convert("RGBA" if "A" in image.getbands() else "RGB")
    )
