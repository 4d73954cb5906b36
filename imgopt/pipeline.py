"""The image pipeline: bytes and options in, encoded bytes and facts out.

Pure by design: no Flask, no logging, no environment. Each step is a small function (open, check limits,
plan, decode, orient, normalise, resize, colour, pad, encode) so it can be tested and benchmarked alone;
colour, limits and encoders live in their own modules.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from . import geometry
from .budget import check_encode_time, check_memory, check_output_size, check_source_size
from .colour import load_cmyk_profile, normalise_mode, to_srgb
from .encoders import MEDIA_TYPES, Frame, encode
from .errors import ImageTooLarge, UnprocessableImage, UnsupportedFormat
from .geometry import Geometry
from .options import ConvertOptions
from .probe import count_gif_frames

# Pillow format ids we decode; every other Pillow plugin (EPS, PSD, SGI, JPEG 2000, ...) never sees a byte.
ALLOWED_INPUTS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF", "TIFF", "BMP")


# Formats whose extra frames are an animation; for the others (JPEG gain maps, TIFF pages, HEIF) we take
# the first.
ANIMATED_INPUTS = ("GIF", "WEBP", "PNG", "AVIF")


EXIF_ORIENTATION = 0x0112


TRANSPOSE_FOR_ORIENTATION = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


RESAMPLE = Image.Resampling.LANCZOS


# Shrink by whole factors with box averaging first, then finish with Lanczos: as sharp as Lanczos alone
# (the last step still spans >= 3x) and much faster on large downscales. See docs/api.md.
REDUCING_GAP = 3.0


@dataclass(frozen=True)
class PipelineSettings:
    """Limits and encoder settings that come from the service's configuration, not the caller."""

    max_source_pixels: int = 50_000_000
    max_frames: int = 300
    webp_method: int = 4
    avif_codec: str = "aom"
    avif_speed: int = 9
    # Largest estimated pixel memory for one conversion (decoded frame plus output frames), bytes.
    max_decode_bytes: int = 384 * 1024 * 1024
    # Longest estimated encode a request may ask for; kept well inside gunicorn's worker timeout.
    max_encode_seconds: float = 30.0
    # ICC profile assumed for CMYK images that carry none.
    cmyk_profile: bytes = field(default_factory=load_cmyk_profile, repr=False)


@dataclass(frozen=True)
class Result:
    """The encoded image and what we learned making it."""

    data: bytes
    format: str
    width: int
    height: int
    frames: int
    source_format: str
    source_width: int
    source_height: int
    # Size the decoder produced (smaller than the source when JPEG draft decoding applied).
    decoded_size: tuple[int, int] = (0, 0)
    notes: tuple[str, ...] = ()

    @property
    def media_type(self) -> str:
        """The Content-Type of ``data``."""
        return MEDIA_TYPES[self.format]


def convert(data: bytes, options: ConvertOptions, settings: PipelineSettings) -> Result:
    """Decode, orient, resize, colour-correct and encode one upload."""
    notes: list[str] = []
    with open_image(data) as source:
        source_format = source.format or "unknown"
        frame_count = count_frames(source, data, options, settings)
        check_source_size(source.size, frame_count, settings)
        orientation = read_orientation(source, notes)
        plan = geometry.plan(oriented_size(source.size, orientation), options)
        check_output_size(plan, options)
        apply_draft(source, plan, orientation)
        check_memory(source, frame_count, plan, settings)
        check_encode_time(plan, frame_count, options, settings)
        profile = source.info.get("icc_profile")
        frames = [
            Frame(
                render_frame(
                    image,
                    plan=plan,
                    orientation=orientation,
                    profile=profile,
                    options=options,
                    settings=settings,
                    notes=notes,
                ),
                duration,
            )
            for image, duration in decode_frames(source, frame_count)
        ]
        # A GIF without a NETSCAPE loop block plays once; WebP spells "once" as loop=1.
        loop = int(source.info.get("loop", 1))
        decoded_size = source.size
    encoded = encode(frames, loop, options, settings)
    first = frames[0].image
    return Result(
        data=encoded,
        format=options.format,
        width=first.width,
        height=first.height,
        frames=len(frames),
        source_format=source_format,
        source_width=plan.source_size[0],
        source_height=plan.source_size[1],
        decoded_size=decoded_size,
        notes=tuple(dict.fromkeys(notes)),
    )


@functools.cache
def register_plugins() -> None:
    """Register the AVIF and HEIF decoders with Pillow; safe to call more than once."""
    import pillow_avif  # noqa: F401  (importing replaces Pillow's own AVIF plugin)
    import pillow_heif

    Image.init()
    pillow_heif.register_heif_opener(thumbnails=False)


def open_image(data: bytes) -> Image.Image:
    """Identify the format from the bytes and read the header only; raise 415 for anything else."""
    register_plugins()
    if not data:
        msg = "the file is empty"
        raise UnsupportedFormat(msg)
    try:
        return Image.open(io.BytesIO(data), formats=ALLOWED_INPUTS)
    except UnidentifiedImageError:
        msg = "the file is not an image in a supported format (JPEG, PNG, GIF, WebP, AVIF, HEIF, TIFF, BMP)"
        raise UnsupportedFormat(msg) from None
    except Image.DecompressionBombError as exc:  # the header claims more pixels than Pillow will ever decode
        msg = f"the image is far larger than MAX_SOURCE_PIXELS allows: {_reason(exc)}"
        raise ImageTooLarge(msg) from None
    except Exception as exc:  # a recognised header that the plugin could not parse
        msg = f"the image header could not be read: {_reason(exc)}"
        raise UnprocessableImage(msg) from None


def count_frames(
    source: Image.Image, data: bytes, options: ConvertOptions, settings: PipelineSettings
) -> int:
    """How many frames we will decode: 1 unless the source is an animation and the caller wants it."""
    if not options.animated or source.format not in ANIMATED_INPUTS:
        return 1
    if source.format == "GIF":
        # Pillow's n_frames decodes every frame to find the next: count the blocks ourselves instead.
        return max(1, count_gif_frames(data, stop_after=settings.max_frames))
    try:
        return max(1, int(getattr(source, "n_frames", 1)))
    except Exception as exc:
        msg = f"the animation could not be read: {_reason(exc)}"
        raise UnprocessableImage(msg) from None


def read_orientation(source: Image.Image, notes: list[str]) -> int:
    """The EXIF orientation (1-8); a missing or malformed EXIF block counts as 1."""
    try:
        value = source.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:
        notes.append("ignored_malformed_exif")
        return 1
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    notes.append("ignored_malformed_exif")
    return 1


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The size a stored image has once its orientation is applied (5-8 swap the sides)."""
    return (size[1], size[0]) if orientation >= 5 else size


def apply_draft(source: Image.Image, plan: Geometry, orientation: int) -> None:
    """Let JPEG decode at 1/2, 1/4 or 1/8 scale when that still covers what the resize needs."""
    if plan.scaled_source == plan.source_size:
        return
    box = oriented_size(plan.scaled_source, orientation)  # back to stored orientation
    try:
        source.draft(source.mode, box)
    except Exception:  # draft is an optimisation; a failure only costs time
        return


def decode_frames(source: Image.Image, frame_count: int) -> Iterator[tuple[Image.Image, int]]:
    """Yield each decoded frame with its duration in ms; decoding errors become 422."""
    for index in range(frame_count):
        try:
            if index:
                source.seek(index)
            source.load()
        except Exception as exc:
            msg = f"the image could not be decoded: {_reason(exc)}"
            raise UnprocessableImage(msg) from None
        yield source, int(source.info.get("duration") or 100)


def render_frame(
    image: Image.Image,
    *,
    plan: Geometry,
    orientation: int,
    profile: bytes | None,
    options: ConvertOptions,
    settings: PipelineSettings,
    notes: list[str],
) -> Image.Image:
    """Turn one decoded frame into the output frame: orient, normalise, resize, colour, pad."""
    decoded = image
    image = normalise_mode(image)
    image = apply_orientation(image, orientation)
    image = resize(image, plan)
    image = to_srgb(image, profile, settings.cmyk_profile, notes)
    image = pad(image, plan, options.format)
    if image is decoded:  # nothing changed the pixels: detach from the decoder, which moves to the next frame
        image = image.copy()
    image.info = {}
    return image


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Rotate or flip so the image is upright, as its EXIF orientation says."""
    for method in TRANSPOSE_FOR_ORIENTATION.get(orientation, ()):
        image = image.transpose(method)
    return image


def resize(image: Image.Image, plan: Geometry) -> Image.Image:
    """Scale (and for cover, crop) to the planned size; the box is mapped onto a drafted image."""
    target = plan.resized
    scale_x = image.width / plan.source_size[0]
    scale_y = image.height / plan.source_size[1]
    box = plan.crop_box
    if box is None and image.size == target:
        return image
    if box is not None:
        box = (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)
    return image.resize(target, RESAMPLE, box=box, reducing_gap=REDUCING_GAP)


def pad(image: Image.Image, plan: Geometry, output_format: str) -> Image.Image:
    """For fit=contain, centre the image on the exact box: transparent, or white for JPEG."""
    if image.size == plan.canvas:
        return image
    if output_format == "jpeg":
        canvas = Image.new("RGB", plan.canvas, (255, 255, 255))
    else:
        canvas = Image.new("RGBA", plan.canvas, (0, 0, 0, 0))
    offset = ((plan.canvas[0] - image.width) // 2, (plan.canvas[1] - image.height) // 2)
    canvas.paste(image, offset)
    return canvas


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]


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
