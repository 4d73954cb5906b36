"""Encoders: the output frames to WebP, AVIF, JPEG or PNG bytes, with no metadata at all."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.settings import PipelineSettings
from imgopt.imaging.source import register_plugins

MEDIA_TYPES = {"webp": "image/webp", "avif": "image/avif", "jpeg": "image/jpeg", "png": "image/png"}


LOSSLESS_WEBP_EFFORT = 75


AVIF_QUALITY_OFFSET = 2


@dataclass
class Frame:
    image: Image.Image
    duration: int


def encode(
    frames: list[Frame], loop: int, options: ConvertOptions, settings: PipelineSettings, threads: int = 1
) -> bytes:
    """Encode the frames in the requested format, with no metadata at all. ``threads`` is for the AVIF
    encoder, whose bytes do not depend on it (libaom splits rows and tiles; 2 threads halve a 1920 px
    encode); the others use one."""
    buffer = io.BytesIO()
    ENCODERS[options.format](buffer, frames, loop, options, settings, threads=threads)
    return buffer.getvalue()


def _animation_args(frames: list[Frame], loop: int) -> dict[str, object]:
    if len(frames) == 1:
        return {}
    return {
        "save_all": True,
        "append_images": [frame.image for frame in frames[1:]],
        "duration": [frame.duration for frame in frames],
        "loop": loop,
    }


def _uniform_mode(frames: list[Frame]) -> list[Frame]:
    """Animations need one mode for every frame; RGBA if any frame has transparency."""
    if len(frames) == 1:
        return frames
    mode = "RGBA" if any(frame.image.mode == "RGBA" for frame in frames) else "RGB"
    return [Frame(frame.image.convert(mode), frame.duration) for frame in frames]


def _encode_webp(buffer, frames, loop, options, settings, *, threads) -> None:
    frames = _uniform_mode(frames)
    frames[0].image.save(
        buffer,
        "WEBP",
        # For lossless WebP, quality is compression effort, not fidelity: fix it so the caller's is ignored.
        quality=LOSSLESS_WEBP_EFFORT if options.lossless else options.quality,
        method=settings.webp_method,
        lossless=options.lossless,
        exif=b"",
        xmp=b"",
        icc_profile=None,
        **_animation_args(frames, loop),
    )


def _encode_avif(buffer, frames, loop, options, settings, *, threads) -> None:
    frames = _uniform_mode(frames)
    if options.lossless:
        quality, subsampling = 100, "4:4:4"
    else:
        quality, subsampling = avif_quality(options.quality), "4:2:0"
    args = _animation_args(frames, loop)
    args.pop("loop", None)  # pillow-avif-plugin writes no loop count: AVIF sequences always repeat
    frames[0].image.save(
        buffer,
        "AVIF",
        quality=quality,
        subsampling=subsampling,
        speed=settings.avif_speed,
        codec=settings.avif_codec,
        max_threads=threads,
        exif=b"",
        xmp=b"",
        icc_profile=b"",
        **args,
    )


def avif_quality(quality: int) -> int:
    """The AVIF encoder quality for a caller's quality: two steps up, so that quality 80 from aom at speed 9
    makes files the size rav1e's speed 6 made at 80, at 24x the speed (docs/performance.md)."""
    return min(100, quality + AVIF_QUALITY_OFFSET)


def flattened_for_jpeg(image: Image.Image) -> Image.Image:
    """JPEG has no alpha: a transparent image is flattened onto white."""
    if image.mode != "RGBA":
        return image
    flattened = Image.new("RGB", image.size, (255, 255, 255))
    flattened.paste(image, mask=image.getchannel("A"))
    return flattened


def _encode_jpeg(buffer, frames, loop, options, settings, *, threads) -> None:
    image = flattened_for_jpeg(frames[0].image)
    image.save(buffer, "JPEG", quality=options.quality, optimize=True, progressive=True)


def _encode_png(buffer, frames, loop, options, settings, *, threads) -> None:
    frames = _uniform_mode(frames)
    frames[0].image.save(buffer, "PNG", optimize=len(frames) == 1, **_animation_args(frames, loop))


ENCODERS = {"webp": _encode_webp, "avif": _encode_avif, "jpeg": _encode_jpeg, "png": _encode_png}


def encoders_problem(avif_codec: str) -> str | None:
    """Why the configured encoders cannot run here, or None when they all can."""
    register_plugins()
    from pillow_avif import _avif

    if not _avif.encoder_codec_available(avif_codec):
        return f"the AVIF encoder {avif_codec!r} is not built into pillow-avif-plugin here"
    missing = [name for name in ("WEBP", "AVIF", "JPEG", "PNG") if name not in Image.SAVE]
    if missing:
        return f"Pillow lacks the {', '.join(missing)} encoder"
    return None
