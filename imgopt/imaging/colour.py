"""Colour: pixel modes brought to 8-bit, and ICC-tagged pixels converted to sRGB with LittleCMS."""

from __future__ import annotations

import functools
import io
from importlib import resources

from PIL import Image, ImageCms

from imgopt.errors import UnsupportedFormat

# The profile assumed for CMYK images that carry none (see imgopt/profiles/README.md).
CMYK_PROFILE = "profiles/cmyk-fogra39.icc"


_SRGB = ImageCms.createProfile("sRGB")


# sRGB byte value -> linear light (0-1), the standard transfer curve; the placeholder, the attention map and
# SSIMULACRA2 all read this one table.
SRGB_TO_LINEAR = tuple(
    value / 255 / 12.92 if value / 255 <= 0.04045 else ((value / 255 + 0.055) / 1.055) ** 2.4
    for value in range(256)
)


_LAB = ImageCms.createProfile("LAB")


def load_cmyk_profile() -> bytes:
    """The standard CMYK profile shipped inside the package."""
    return resources.files("imgopt").joinpath(CMYK_PROFILE).read_bytes()


# Modes the later steps handle as they are, and modes one plain convert() brings there without loss.
WORKING_MODES = ("L", "LA", "RGB", "RGBA", "CMYK")


PLAIN_CONVERSIONS = {
    "1": "L",
    "La": "LA",
    "PA": "RGBA",
    "RGBa": "RGBA",
    "RGBX": "RGB",
    "YCbCr": "RGB",
    "HSV": "RGB",
}


def normalise_mode(image: Image.Image) -> Image.Image:
    """Bring any pixel mode to 8-bit L, LA, RGB, RGBA or CMYK, keeping transparency and mid-tones."""
    mode = image.mode
    if mode in WORKING_MODES:
        return image
    if mode in PLAIN_CONVERSIONS:
        return image.convert(PLAIN_CONVERSIONS[mode])
    if mode == "P":
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    if mode.startswith("I") or mode == "F":
        return _deep_to_8bit(image)
    if mode == "LAB":
        lab_to_srgb = ImageCms.buildTransform(_LAB, _SRGB, "LAB", "RGB")
        return ImageCms.applyTransform(image, lab_to_srgb)
    msg = f"images in pixel mode {mode} are not supported"
    raise UnsupportedFormat(msg)


def _deep_to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and float greys to 8-bit L by scaling, where convert("L") would clip above 255 to white."""
    if image.mode == "F":
        high = image.getextrema()[1]
        scale = 255.0 if isinstance(high, float) and high <= 1.0 else 1.0
        return image.point(lambda value: value * scale).convert("L")
    return image.convert("I").point(lambda value: value * (1 / 257)).convert("L")


def to_srgb(image: Image.Image, profile: bytes | None, cmyk_profile: bytes, notes: list[str]) -> Image.Image:
    """Convert to sRGB RGB/RGBA through the embedded ICC profile; untagged input is taken as sRGB."""
    color, alpha = _split_alpha(image)
    if profile and not _is_srgb(profile):
        color = _apply_profile(color, profile, notes)
    if color.mode == "CMYK":
        color = ImageCms.applyTransform(color, _transform_to_srgb(cmyk_profile, "CMYK"))
    if color.mode != "RGB":
        color = color.convert("RGB")
    if alpha is None or alpha.getextrema() == (255, 255):
        return color
    color.putalpha(alpha)
    return color


def _apply_profile(color: Image.Image, profile: bytes, notes: list[str]) -> Image.Image:
    """Colour through an embedded profile; a profile that is broken or does not fit the pixels is ignored."""
    if _profile_space(profile) == "GRAY" and color.mode == "RGB":
        color = color.convert("L")  # Pillow decodes some grey PNGs (16-bit grey+alpha) as RGB(A)
    try:
        return ImageCms.applyTransform(color, _transform_to_srgb(profile, color.mode))
    except Exception:
        notes.append("ignored_broken_icc_profile")
        return color


def _split_alpha(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    if image.mode == "RGBA":
        return image.convert("RGB"), image.getchannel("A")
    if image.mode == "LA":
        return image.convert("L"), image.getchannel("A")
    return image, None


def _is_srgb(profile: bytes) -> bool:
    description = _profile_description(profile)
    return description is not None and description.lower().startswith("srgb")


@functools.lru_cache(maxsize=32)
def _profile_description(profile: bytes) -> str | None:
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(profile))).strip()
    except Exception:
        return None


@functools.lru_cache(maxsize=32)
def _profile_space(profile: bytes) -> str | None:
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(profile)).profile.xcolor_space.strip()
    except Exception:
        return None


@functools.lru_cache(maxsize=32)
def _transform_to_srgb(profile: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    return ImageCms.buildTransform(source, _SRGB, mode, "RGB")
