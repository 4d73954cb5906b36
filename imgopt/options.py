"""Parse and validate the /convert form fields into a frozen ConvertOptions.

Validation raises InvalidOption (400, code ``invalid_<field>``) with a message that names the field and its
allowed values; it never returns a flag for the caller to check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import InvalidOption

OUTPUT_FORMATS = ("webp", "avif", "jpeg", "png", "auto")
# Formats quality=auto can search, and the ones format=auto chooses between.
LOSSY_FORMATS = ("webp", "avif", "jpeg")
AUTO_FORMATS = ("webp", "avif")
# The perceptual targets (SSIMULACRA2) a caller may ask quality=auto for.
TARGET_RANGE = (50.0, 95.0)
DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{0,16})?")
FORMAT_ALIASES = {"jpg": "jpeg"}
FITS = ("fill", "inside", "cover", "contain")
GRAVITIES = (
    "center",
    "north",
    "south",
    "east",
    "west",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
    "smart",
)
GRAVITY_ALIASES = {"centre": "center"}
# Every field that shapes an output, in the order the docs list them.
OPTION_FIELDS = (
    "format",
    "quality",
    "width",
    "height",
    "fit",
    "enlarge",
    "lossless",
    "animated",
    "crop",
    "gravity",
    "focus",
    "target",
)
CROP = re.compile(r"\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*", re.ASCII)
FOCUS = re.compile(r"\s*([01](?:\.\d{1,12})?|\.\d{1,12})\s*,\s*([01](?:\.\d{1,12})?|\.\d{1,12})\s*", re.ASCII)
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


@dataclass(frozen=True)
class ConvertOptions:
    """What the caller asked for; the pipeline's only input besides the bytes and the limits."""

    format: str = "webp"
    quality: int = 80
    # quality=auto: search the quality for ``target`` (or the service's AUTO_QUALITY_TARGET).
    auto_quality: bool = False
    target: float | None = None
    width: int | None = None
    height: int | None = None
    fit: str = "fill"
    enlarge: bool = False
    lossless: bool = False
    animated: bool = True
    # A rectangle (x, y, width, height) of the upright source, cut before anything else.
    crop: tuple[int, int, int, int] | None = None
    # Which part fit=cover keeps; "smart" looks at the pixels.
    gravity: str = "center"
    # A point (fractions of the upright image, or of the crop) that fit=cover keeps near the centre.
    focus: tuple[float, float] | None = None


def _field(form: Mapping[str, str], name: str) -> str | None:
    """A field's value without surrounding whitespace, or None when it is absent."""
    raw = form.get(name)
    return None if raw is None else raw.strip()


def _integer(form: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = _field(form, name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not low <= int(raw) <= high:
        msg = f"{name} must be an integer from {low} to {high}, got {raw[:40]!r}"
        raise InvalidOption(name, msg)
    return int(raw)


def _boolean(form: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _field(form, name)
    if raw is None:
        return default
    word = raw.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    msg = f"{name} must be true or false, got {raw[:40]!r}"
    raise InvalidOption(name, msg)


def _choice(form: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = _field(form, name)
    if raw is None:
        return default
    word = raw.lower()
    word = {"format": FORMAT_ALIASES, "gravity": GRAVITY_ALIASES}.get(name, {}).get(word, word)
    if word not in choices:
        msg = f"{name} must be one of {', '.join(choices)}, got {raw[:40]!r}"
        raise InvalidOption(name, msg)
    return word


def _crop(form: Mapping[str, str]) -> tuple[int, int, int, int] | None:
    raw = _field(form, "crop")
    if raw is None:
        return None
    match = CROP.fullmatch(raw)
    if not match or int(match[3]) < 1 or int(match[4]) < 1:
        msg = (
            f"crop must be x,y,width,height in whole upright pixels, width and height >= 1, got {raw[:40]!r}"
        )
        raise InvalidOption("crop", msg)
    x, y, width, height = (int(group) for group in match.groups())
    return x, y, width, height


def _focus(form: Mapping[str, str]) -> tuple[float, float] | None:
    raw = _field(form, "focus")
    if raw is None:
        return None
    match = FOCUS.fullmatch(raw)
    point = (float(match[1]), float(match[2])) if match else None
    if point is None or not all(0.0 <= value <= 1.0 for value in point):
        msg = f"focus must be x,y, each between 0 and 1 (fractions of the width and height), got {raw[:40]!r}"
        raise InvalidOption("focus", msg)
    return point


def _target(form: Mapping[str, str]) -> float | None:
    raw = _field(form, "target")
    if raw is None:
        return None
    low, high = TARGET_RANGE
    value = float(raw) if DECIMAL.fullmatch(raw) else math.nan
    if not low <= value <= high:  # NaN fails too
        msg = f"target must be a SSIMULACRA2 score from {low:g} to {high:g}, got {raw[:40]!r}"
        raise InvalidOption("target", msg)
    return value


def _quality(form: Mapping[str, str]) -> int | str | None:
    """An integer quality, "auto", or None when absent."""
    raw = _field(form, "quality")
    if raw is None:
        return None
    if raw.lower() == "auto":
        return "auto"
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= 100:
        msg = f"quality must be an integer from 1 to 100, or auto, got {raw[:40]!r}"
        raise InvalidOption("quality", msg)
    return int(raw)


def parse_options(form: Mapping[str, str], *, default_quality: int, max_dimension: int) -> ConvertOptions:
    """Turn form fields into ConvertOptions; unknown fields are ignored."""
    quality = _quality(form)
    output_format = _choice(form, "format", OUTPUT_FORMATS, "webp")
    lossless = _boolean(form, "lossless", False)
    # format=auto searches the quality too, unless a quality is given.
    auto_quality = quality == "auto" or (output_format == "auto" and quality is None)
    if output_format == "auto" and lossless:
        msg = "format=auto compares lossy WebP and AVIF; for a lossless output send format=webp or png"
        raise InvalidOption("format", msg)
    if auto_quality and (output_format not in (*LOSSY_FORMATS, "auto") or lossless):
        msg = "quality=auto needs a lossy output: format webp, avif, jpeg or auto, without lossless=true"
        raise InvalidOption("quality", msg)
    return ConvertOptions(
        format=output_format,
        quality=quality if isinstance(quality, int) else default_quality,
        auto_quality=auto_quality,
        target=_target(form),
        width=_integer(form, "width", 1, max_dimension),
        height=_integer(form, "height", 1, max_dimension),
        fit=_choice(form, "fit", FITS, "fill"),
        enlarge=_boolean(form, "enlarge", False),
        lossless=lossless,
        animated=_boolean(form, "animated", True),
        crop=_crop(form),
        gravity=_choice(form, "gravity", GRAVITIES, "center"),
        focus=_focus(form),
    )
