"""The upload as a source image: format from the bytes, header facts, reduced (draft) decoding, frames.

Everything here runs before or during decoding and knows nothing of the outputs beyond the box a draft
decode must still cover.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from imgopt.errors import ImageTooLarge, UnprocessableImage, UnsupportedFormat
from imgopt.imaging.buffer import Buffer, open_buffer
from imgopt.imaging.gif_frames import count_gif_frames
from imgopt.imaging.settings import PipelineSettings

# Pillow format ids we decode; every other Pillow plugin (EPS, PSD, SGI, JPEG 2000, ...) never sees a byte.
ALLOWED_INPUTS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF", "TIFF", "BMP")


# Formats whose extra frames are an animation; for the others (JPEG gain maps, TIFF pages, HEIF) we take
# the first.
ANIMATED_INPUTS = ("GIF", "WEBP", "PNG", "AVIF")


EXIF_ORIENTATION = 0x0112


# Formats whose decoders can produce a smaller image than the source: JPEG by DCT scaling (1/2, 1/4, 1/8),
# HEIF by decoding an embedded thumbnail instead of the image.
DRAFT_FORMATS = ("JPEG", "HEIF")


# A HEIF thumbnail is used only when it is at least this many times the size needed, so that the output is
# still a downscale (a thumbnail is itself a lossy, often soft, copy).
HEIF_THUMBNAIL_MARGIN = 2


@functools.cache
def register_plugins() -> None:
    """Register the AVIF and HEIF decoders with Pillow; safe to call more than once.

    Decoders get one thread each: a worker per core already uses every core, and libheif's and dav1d's
    extra threads each keep a malloc arena that a worker never gives back (docs/operations.md). HEIF depth
    and auxiliary images are never read; embedded thumbnails may be, by ``apply_draft``.
    """
    import pillow_avif  # noqa: F401  (importing replaces Pillow's own AVIF plugin)
    import pillow_heif
    from pillow_avif import AvifImagePlugin

    Image.init()
    pillow_heif.register_heif_opener(thumbnails=True, decode_threads=1, depth_images=False, aux_images=False)
    AvifImagePlugin.DEFAULT_MAX_THREADS = 1


def open_image(data: Buffer) -> Image.Image:
    """Identify the format from the bytes and read the header only; raise 415 for anything else. ``data`` may
    be any buffer (the upload is a memoryview into the request body); it is never copied."""
    register_plugins()
    if not data:
        msg = "the file is empty"
        raise UnsupportedFormat(msg)
    try:
        return Image.open(open_buffer(data), formats=ALLOWED_INPUTS)
    except UnidentifiedImageError:
        msg = "the file is not an image in a supported format (JPEG, PNG, GIF, WebP, AVIF, HEIF, TIFF, BMP)"
        raise UnsupportedFormat(msg) from None
    except Image.DecompressionBombError as exc:  # the header claims more pixels than Pillow will ever decode
        msg = f"the image is far larger than MAX_SOURCE_PIXELS allows: {reason(exc)}"
        raise ImageTooLarge(msg) from None
    except Exception as exc:  # a recognised header that the plugin could not parse
        msg = f"the image header could not be read: {reason(exc)}"
        raise UnprocessableImage(msg) from None


@dataclass(frozen=True)
class Survey:
    """What the header says, before any pixel is decoded."""

    format: str
    size: tuple[int, int]
    mode: str
    frames: int
    orientation: int

    @property
    def upright_size(self) -> tuple[int, int]:
        """The size once the EXIF orientation is applied."""
        return oriented_size(self.size, self.orientation)


def survey(
    header: Image.Image, data: Buffer, *, animated: bool, settings: PipelineSettings, notes: list[str]
) -> Survey:
    """Format, size, frames and orientation from the header; frames are counted only when something wants
    them (``animated``: an animated output, or the source's facts)."""
    return Survey(
        format=header.format or "unknown",
        size=header.size,
        mode=header.mode,
        frames=count_frames(header, data, animated, settings),
        orientation=read_orientation(header, notes),
    )


def count_frames(source: Image.Image, data: Buffer, animated: bool, settings: PipelineSettings) -> int:
    """How many frames we will decode: 1 unless the source is an animation and the caller wants it."""
    if not animated or source.format not in ANIMATED_INPUTS:
        return 1
    if source.format == "GIF":
        # Pillow's n_frames decodes every frame to find the next: count the blocks ourselves instead.
        return max(1, count_gif_frames(data, stop_after=settings.max_frames))
    try:
        return max(1, int(getattr(source, "n_frames", 1)))
    except Exception as exc:
        msg = f"the animation could not be read: {reason(exc)}"
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


def apply_draft(source: Image.Image, upright_box: tuple[int, int], orientation: int) -> None:
    """Decode smaller when that still covers ``upright_box`` (upright pixels): JPEG at 1/2, 1/4 or 1/8
    scale, HEIF from an embedded thumbnail at least twice the box."""
    box = oriented_size(upright_box, orientation)  # back to stored orientation
    if source.format not in DRAFT_FORMATS or (box[0] >= source.width and box[1] >= source.height):
        return
    if source.format == "HEIF":
        box = (box[0] * HEIF_THUMBNAIL_MARGIN, box[1] * HEIF_THUMBNAIL_MARGIN)
    try:
        source.draft(source.mode, box)
    except Exception:  # draft is an optimisation; a failure only costs time
        return


# The reductions libjpeg's DCT scaling offers, largest first, as Pillow's JPEG draft picks among them.
JPEG_SCALES = (8, 4, 2, 1)


def jpeg_draft_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The size a JPEG of ``size`` decodes at once drafted to cover ``box`` (both stored orientation): the
    largest 1/k scale that still covers it, as Pillow's draft chooses, known without opening the file."""
    if box[0] >= size[0] and box[1] >= size[1]:
        return size
    fits = min(size[0] // box[0], size[1] // box[1])
    scale = next((scale for scale in JPEG_SCALES if fits >= scale), 1)
    return (size[0] + scale - 1) // scale, (size[1] + scale - 1) // scale


def decode_frames(source: Image.Image, frame_count: int) -> Iterator[tuple[Image.Image, int]]:
    """Yield each decoded frame with its duration in ms; decoding errors become 422."""
    for index in range(frame_count):
        try:
            if index:
                source.seek(index)
            source.load()
        except Exception as exc:
            msg = f"the image could not be decoded: {reason(exc)}"
            raise UnprocessableImage(msg) from None
        yield source, int(source.info.get("duration") or 100)


def loop_count(source: Image.Image) -> int:
    """The animation's loop count; a GIF without a NETSCAPE loop block plays once, which WebP spells 1."""
    return int(source.info.get("loop", 1))


def reason(exc: BaseException) -> str:
    """A short, printable account of a library's exception for an error message."""
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
