"""Parse the /variants form: a JSON list of named renditions, each merged over the form's own fields.

Everything is validated before any pixel is decoded. A bad value inside a rendition gets the error code
/convert uses for that field, with a message that names the rendition.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import BadRequest, InvalidOption
from .options import OPTION_FIELDS, ConvertOptions, parse_options

NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class InvalidVariants(BadRequest):
    """The ``variants`` field is missing or malformed."""

    code = "invalid_variants"


def parse_variants(
    form: Mapping[str, str], *, max_variants: int, default_quality: int, max_dimension: int
) -> list[tuple[str, ConvertOptions]]:
    """(name, options) for every rendition, in request order; the other form fields are defaults."""
    items = _items(form.get("variants"), max_variants)
    defaults = {name: value for name, value in form.items() if name in OPTION_FIELDS}
    # Bad defaults are reported once, as /convert would report them.
    parse_options(defaults, default_quality=default_quality, max_dimension=max_dimension)
    names: set[str] = set()
    parsed = []
    for position, item in enumerate(items):
        name = _name(item, position, names)
        fields = dict(defaults)
        for key, value in item.items():
            if key != "name" and value is not None:
                fields[key] = _as_text(name, key, value)
        try:
            options = parse_options(fields, default_quality=default_quality, max_dimension=max_dimension)
        except InvalidOption as error:
            msg = f"variant {name!r}: {error.message}"
            raise InvalidOption(error.field, msg) from None
        parsed.append((name, options))
    return parsed


def _items(raw: str | None, max_variants: int) -> list[dict[str, Any]]:
    if raw is None:
        msg = 'send a \'variants\' field: a JSON array of objects such as [{"name": "w320", "width": 320}]'
        raise InvalidVariants(msg)
    try:
        items = json.loads(raw)
    except ValueError as error:
        msg = f"'variants' is not valid JSON: {error}"
        raise InvalidVariants(msg) from None
    if not isinstance(items, list) or not items:
        msg = "'variants' must be a non-empty JSON array of objects"
        raise InvalidVariants(msg)
    if len(items) > max_variants:
        msg = f"'variants' has {len(items)} items; at most {max_variants} are allowed (MAX_VARIANTS)"
        raise BadRequest(msg, code="too_many_variants")
    return items


def _name(item: object, position: int, seen: set[str]) -> str:
    """The item's validated, unique name; also checks that the item is an object with known fields."""
    if not isinstance(item, dict):
        msg = f"variants[{position}] must be a JSON object, got {type(item).__name__}"
        raise InvalidVariants(msg)
    name = item.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        shown = json.dumps(name)[:80]
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


def _as_text(name: str, key: str, value: object) -> str:
    """A JSON value as the form text /convert would receive for it ([1, 2, 3, 4] for crop is "1,2,3,4")."""
    if key in LIST_FIELDS and isinstance(value, list):
        if all(isinstance(item, int | float) and not isinstance(item, bool) for item in value):
            return ",".join(_as_text(name, key, item) for item in value)
        value = "[" + ", ".join(map(str, value)) + "]"  # reported by the field's own check
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
