"""Images of a request besides the upload (the watermark an operation lays over it): decoded whole, once, with
the upload's own checks, so that a watermark that is not an image gets the errors an upload would: its
format from its bytes (415), its size against MAX_SOURCE_PIXELS and MAX_DECODE_MB (422), a decode that fails
(422). Then upright and in sRGB, as RGBA: what an operation lays over a frame."""

from __future__ import annotations

from PIL import Image

from imgopt.errors import ImageTooLarge
from imgopt.imaging.buffer import Buffer
from imgopt.imaging.colour import to_srgb
from imgopt.imaging.limits import check_source_size
from imgopt.imaging.settings import PipelineSettings
from imgopt.imaging.source import decode_frames, open_image, read_orientation
from imgopt.imaging.steps import turn_upright

# Bytes per pixel of a whole RGBA decode, with the decoder's own copy.
DECODE_BYTES_PER_PIXEL = 8


def decode_other(data: Buffer, part: str, settings: PipelineSettings, notes: list[str]) -> Image.Image:
    """The request's ``part`` image, decoded whole, upright, in sRGB, RGBA."""
    with open_image(data) as opened:
        check_source_size(opened.size, 1, settings)
        needed = opened.size[0] * opened.size[1] * DECODE_BYTES_PER_PIXEL
        if needed > settings.max_decode_bytes:
            width, height = opened.size
            msg = f"the {part} image ({width}x{height}) would need more than MAX_DECODE_MB to decode"
            raise ImageTooLarge(msg)
        orientation = read_orientation(opened, notes)
        profile = opened.info.get("icc_profile")
        ((frame, _duration),) = decode_frames(opened, 1)
        upright = turn_upright(frame, orientation)
        return to_srgb(upright, profile, settings.cmyk_profile, notes).convert("RGBA")
