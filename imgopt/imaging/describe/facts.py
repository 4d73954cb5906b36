"""Facts a CMS records about an upload: its format, upright size, frames and whether it is transparent."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class SourceFacts:
    """What the uploaded image is, independent of any rendition made from it."""

    format: str
    # Upright size: after the EXIF orientation is applied, at full resolution (never the draft size).
    width: int
    height: int
    # Frames in the animation, counted up to MAX_FRAMES + 1 (more than MAX_FRAMES means "too many").
    frames: int
    animated: bool
    # Some pixel of the first frame is not fully opaque; None when not looked at (a single conversion).
    has_alpha: bool | None


def has_transparency(image: Image.Image) -> bool:
    """True when some pixel of a working-mode image (L, LA, RGB, RGBA, CMYK) is not fully opaque."""
    if image.mode not in ("RGBA", "LA"):
        return False
    return image.getchannel("A").getextrema()[0] < 255
