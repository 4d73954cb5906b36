"""Parse the form fields of /convert into ConvertOptions, and of /variants into named renditions.

/variants takes a JSON list of named renditions, each merged over the form's own fields.

Everything is validated before any pixel is decoded. A bad value inside a rendition gets the error code
/convert uses for that field, with a message that names the rendition.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from imgopt.errors import BadRequest, InvalidOption, InvalidVariants
from imgopt.imaging import operations
from imgopt.imaging.options import (
    FITS,
    GRAVITIES,
    LOSSY_FORMATS,
    OPTION_FIELDS,
    OUTPUT_FORMATS,
    TARGET_RANGE,
    AutoWidths,
    ConvertOptions,
)

DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{0,16})?")
FORMAT_ALIASES = {"jpg": "jpeg"}
GRAVITY_ALIASES = {"centre": "center"}
CROP = re.compile(r"\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*", re.ASCII)
FOCUS = re.compile(r"\s*([01](?:\.\d{1,12})?|\.\d{1,12})\s*,\s*([01](?:\.\d{1,12})?|\.\d{1,12})\s*", re.ASCII)
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def parse_variants(
    form: Mapping[str, str],
    *,
    max_variants: int,
    max_dimension: int,
    parts: Mapping[str, bytes | memoryview] | None = None,
) -> list[tuple[str, ConvertOptions]]:
    """(name, options) for every rendition, in request order; the other form fields are defaults. ``parts``
    are the request's other file parts (the watermark an operation takes)."""
    items = _items(form.get("variants"), max_variants)
    defaults = {name: value for name, value in form.items() if name in OPTION_FIELDS}
    # Bad defaults are reported once, as /convert would report them.
    parse_options(defaults, max_dimension=max_dimension, variants=True, parts=parts)
    names: set[str] = set()
    parsed = []
    for position, item in enumerate(items):
        name = _name(item, position, names)
        fields = dict(defaults)
        for key, value in item.items():
            if key != "name" and value is not None:
                fields[key] = _as_text(name, key, value)
        try:
            options = parse_options(fields, max_dimension=max_dimension, variants=True, parts=parts)
        except InvalidOption as error:
            msg = f"variant {name!r}: {error.message}"
            raise InvalidOption(error.field, msg) from None
        parsed.append((name, options))
    _check_auto_widths(parsed, max_variants)
    return parsed


def _check_auto_widths(parsed: list[tuple[str, ConvertOptions]], max_variants: int) -> None:
    """A widths=auto rendition counts as its max_images against MAX_VARIANTS, and its renditions, named
    {name}-{width}, must not take another rendition's name."""
    outputs = sum(options.widths.max_images if options.widths else 1 for _name, options in parsed)
    if outputs > max_variants:
        msg = (
            f"these variants may make {outputs} renditions (widths=auto counts as its max_images, "
            f"{AutoWidths().max_images} unless given); at most {max_variants} may be made (MAX_VARIANTS)"
        )
        raise BadRequest(msg, code="too_many_variants")
    names = [name for name, _options in parsed]
    for name, options in parsed:
        taken = [other for other in names if re.fullmatch(re.escape(name) + r"-\d+", other)]
        if options.widths is not None and taken:
            msg = (
                f"variant {name!r} has widths=auto, whose renditions are named {name}-<width>, "
                f"as {taken[0]!r} is"
            )
            raise InvalidVariants(msg)


def _items(raw: str | None, max_variants: int) -> list[dict[str, Any]]:
    if raw is None:
        msg = 'send a \'variants\' field: a JSON array of objects such as [{"name": "w320", "width": 320}]'
        raise InvalidVariants(msg)
    try:
        items = json.loads(raw, object_pairs_hook=_unique_keys)
    except ValueError as error:
        msg = f"'variants' is not valid JSON: {error}"
        raise InvalidVariants(msg) from None
    except RecursionError:
        msg = "'variants' is nested too deeply to parse; send a flat array of objects"
        raise InvalidVariants(msg) from None
    if not isinstance(items, list) or not items:
        msg = "'variants' must be a non-empty JSON array of objects"
        raise InvalidVariants(msg)
    if len(items) > max_variants:
        msg = f"'variants' has {len(items)} items; at most {max_variants} are allowed (MAX_VARIANTS)"
        raise BadRequest(msg, code="too_many_variants")
    return items


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object that names a key once; a repeated key is ambiguous, so it is refused."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            msg = f"the key {key[:40]!r} appears twice in one object"
            raise ValueError(msg)
        result[key] = value
    return result


def _name(item: object, position: int, seen: set[str]) -> str:
    """The item's validated, unique name; also checks that the item is an object with known fields."""
    if not isinstance(item, dict):
        msg = f"variants[{position}] must be a JSON object, got {type(item).__name__}"
        raise InvalidVariants(msg)
    name = item.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        shown = _shown(name)[:80]
        msg = f"variants[{position}] needs a 'name' of 1-64 characters from A-Z a-z 0-9 . _ -, got {shown}"
        raise InvalidVariants(msg)
    if name in seen:
        msg = f"variant name {name!r} is used twice; names must be unique"
        raise InvalidVariants(msg)
    seen.add(name)
    unknown = sorted(set(item) - {"name", *OPTION_FIELDS})
    if unknown:
        msg = (
            f"variant {name!r}: unknown field {unknown[0]!r}; the fields are name, {', '.join(OPTION_FIELDS)}"
        )
        raise InvalidVariants(msg)
    return name


# Fields whose value is a list of numbers; in JSON they may also be sent as an array.
LIST_FIELDS = ("crop", "focus")


def _shown(value: object) -> str:
    """A JSON value for a message: scalars as JSON, containers by kind (they may nest thousands deep)."""
    if value is None or isinstance(value, str | int | float | bool):
        return json.dumps(value)[:80]
    return f"a JSON {'array' if isinstance(value, list) else 'object'}"


def _as_text(name: str, key: str, value: object) -> str:
    """A JSON value as the form text /convert would receive for it ([1, 2, 3, 4] for crop is "1,2,3,4")."""
    if key in LIST_FIELDS and isinstance(value, list):
        if all(isinstance(item, int | float) and not isinstance(item, bool) for item in value):
            return ",".join(_as_text(name, key, item) for item in value)
        value = "[" + ", ".join(map(_shown, value[:8])) + "]"  # reported by the field's own check
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    kinds = "a string or an array of numbers" if key in LIST_FIELDS else "a string, number or boolean"
    msg = f"variant {name!r}: {key} must be {kinds}, got {type(value).__name__}"
    raise InvalidOption(key, msg)


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


# A colour as CSS writes it in hex: #rgb or #rrggbb (the # may be left out).
COLOUR = re.compile(r"#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})")


def _background(form: Mapping[str, str]) -> tuple[int, int, int] | None:
    raw = _field(form, "background")
    if raw is None:
        return None
    match = COLOUR.fullmatch(raw)
    if not match:
        msg = f"background must be a colour as #rgb or #rrggbb, got {raw[:40]!r}"
        raise InvalidOption("background", msg)
    digits = match[1] if len(match[1]) == 6 else "".join(digit * 2 for digit in match[1])
    red, green, blue = (int(digits[index : index + 2], 16) for index in (0, 2, 4))
    return red, green, blue


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


# The fields that go with widths=auto, and their ranges (the widths' own are MAX_DIMENSION's).
WIDTHS_FIELDS = ("min_width", "max_width", "max_images", "bytes_step")
MAX_IMAGES = 64
MAX_WIDTH_ASKED = 65535
MAX_BYTES_STEP = 10_000_000


def _auto_widths(form: Mapping[str, str], *, max_dimension: int, variants: bool) -> AutoWidths | None:
    """widths=auto and its limits; None without it. Only /variants makes several renditions of one."""
    raw = _field(form, "widths")
    given = [name for name in WIDTHS_FIELDS if _field(form, name) is not None]
    if raw is None:
        if given:
            msg = f"{given[0]} goes with widths=auto"
            raise InvalidOption(given[0], msg)
        return None
    if raw.lower() != "auto":
        msg = f"widths must be auto (the service chooses them), got {raw[:40]!r}"
        raise InvalidOption("widths", msg)
    if not variants:
        msg = "widths=auto makes several renditions: send it in a /variants rendition"
        raise InvalidOption("widths", msg)
    if _field(form, "width") is not None or _field(form, "height") is not None:
        msg = "widths=auto chooses the width (the height follows the image): leave width and height out"
        raise InvalidOption("widths", msg)
    default = AutoWidths()
    spec = AutoWidths(
        min_width=_integer(form, "min_width", 1, max_dimension) or default.min_width,
        # A wider max_width means "as wide as allowed": a client may send the width of its own base image.
        max_width=min(_integer(form, "max_width", 1, MAX_WIDTH_ASKED) or default.max_width, max_dimension),
        max_images=_integer(form, "max_images", 1, MAX_IMAGES) or default.max_images,
        bytes_step=_integer(form, "bytes_step", 0, MAX_BYTES_STEP)
        if "bytes_step" in given
        else default.bytes_step,
    )
    if spec.min_width > spec.max_width:
        msg = f"min_width ({spec.min_width}) is larger than max_width ({spec.max_width})"
        raise InvalidOption("min_width", msg)
    return spec


def parse_options(
    form: Mapping[str, str],
    *,
    max_dimension: int,
    variants: bool = False,
    parts: Mapping[str, bytes | memoryview] | None = None,
) -> ConvertOptions:
    """Turn form fields into ConvertOptions; unknown fields are ignored. Validation raises InvalidOption
    (code ``invalid_<field>``, or ``invalid_<operation>``) with a message naming the field and its allowed
    values. ``variants``: the fields of a /variants rendition, which may ask for widths=auto. ``parts``: the
    request's other file parts, which an operation may take (the watermark)."""
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
        quality=quality if isinstance(quality, int) else None,
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
        background=_background(form),
        widths=_auto_widths(form, max_dimension=max_dimension, variants=variants),
        operations=operations.parse(_field(form, "operations") or "", parts),
    )
