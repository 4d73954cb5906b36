"""What an operation is: one declaration holding its parameters (with their parsers and ranges), its line in
the docs, whether renditions may share its result, how it changes the frame's size, what it costs, and its
pixel function. Every operation module declares one ``OperationSpec``; imgopt/imaging/operations/__init__.py
lists them, and the parser, the budgets, docs/api.md and docs/openapi.yaml read them from there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

# A parameter with no default must be given.
REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One parameter of an operation: its name, how its text is parsed (ValueError says what is allowed),
    its default, and its meaning for the docs."""

    name: str
    parse: Callable[[str], Any]
    help: str
    default: Any = REQUIRED
    # What the docs show as its values ("0-100", "horizontal, vertical, both").
    values: str = ""


@dataclass(frozen=True)
class Operation:
    """An operation as a caller asked for it, its values parsed: what the pipeline reads. Hashable, so that
    renditions asking for the same operations share their result."""

    name: str
    values: tuple[tuple[str, Any], ...] = ()

    def __getitem__(self, key: str) -> Any:
        for name, value in self.values:
            if name == key:
                return value
        raise KeyError(key)

    def shown(self) -> str:
        """The operation as a caller writes it (without any image it carries)."""
        args = ", ".join(f"{name}={value}" for name, value in self.values if not isinstance(value, bytes))
        return f"{self.name}({args})"


# The inputs one set's operations share, made once: a decoded watermark, by its key.
Assets = dict[Any, Any]


def unchanged(size: tuple[int, int], _operation: Operation) -> tuple[int, int]:
    return size


def no_preparation(_operation: Operation, _assets: Assets, _decode: Any) -> None:
    return None


def no_check(_operation: Operation) -> None:
    return None


@dataclass(frozen=True)
class OperationSpec:
    """One operation: everything the service knows of it, in one place."""

    name: str
    # Its line in docs/api.md and docs/openapi.yaml, and the spatie/image GD call it follows.
    summary: str
    follows: str
    params: tuple[Param, ...]
    # The frame (RGB or RGBA) after the operation.
    apply: Callable[[Image.Image, Operation, Assets], Image.Image]
    # Renditions of one geometry asking for the same operations up to this one share its result (the
    # operation depends on nothing but the frame and its values).
    shared: bool = True
    # The frame's size after it (a border that expands, a quarter turn).
    size: Callable[[tuple[int, int], Operation], tuple[int, int]] = unchanged
    # Its cost in passes over the frame, each about a 3x3 convolution's (for the encode-time budget).
    passes: Callable[[Operation], float] = lambda _operation: 1.0
    # Checks what one parameter's range cannot (ValueError): a percent over 100, say.
    check: Callable[[Operation], None] = no_check
    # Decodes what it needs besides the frame (the watermark image, by ``decode(data, part)``), once per set,
    # before any pixel of the upload is decoded; raises the upload's errors for it.
    prepare: Callable[[Operation, Assets, Any], None] = no_preparation
    # A file part of the request it takes (its bytes become the value of the parameter of that name).
    image_part: str | None = None

    def parse(self, positional: list[str], named: dict[str, str]) -> Operation:
        """The operation's values from its arguments as written: positional in the declared order, then
        ``name=value``; raises ValueError naming what is wrong."""
        if len(positional) > len(self.params):
            msg = f"takes at most {len(self.params)} arguments, got {len(positional)}"
            raise ValueError(msg)
        given = dict(zip((param.name for param in self.params), positional, strict=False))
        for name, text in named.items():
            if name not in {param.name for param in self.params}:
                msg = f"has no parameter {name!r}; its parameters are {', '.join(self.param_names())}"
                raise ValueError(msg)
            if name in given:
                msg = f"got {name} twice"
                raise ValueError(msg)
            given[name] = text
        values = []
        for param in self.params:
            if param.name == self.image_part:
                continue  # attached from the request's file part, never written
            if param.name in given:
                try:
                    value = param.parse(given[param.name].strip())
                except ValueError as error:
                    msg = f"{param.name} {error}, got {given[param.name].strip()[:40]!r}"
                    raise ValueError(msg) from None
            elif param.default is REQUIRED:
                msg = f"needs {param.name}"
                raise ValueError(msg)
            else:
                value = param.default
            values.append((param.name, value))
        operation = Operation(self.name, tuple(values))
        self.check(operation)
        return operation

    def param_names(self) -> list[str]:
        return [param.name for param in self.params if param.name != self.image_part]


# --- parameter parsers -----------------------------------------------------------------------------------


def number(low: float, high: float, *, integer: bool = False) -> Callable[[str], float | int]:
    """A decimal number (a whole one with ``integer``) from ``low`` to ``high``."""

    def parse(text: str) -> float | int:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high or text.lower() in ("nan", "inf", "-inf"):
            kind = "a whole number" if integer else "a number"
            msg = f"must be {kind} from {low:g} to {high:g}"
            raise ValueError(msg)
        return value

    return parse


def choice(*choices: str, aliases: Mapping[str, str] | None = None) -> Callable[[str], str]:
    """One of ``choices`` (any case; ``aliases`` name some of them otherwise)."""

    def parse(text: str) -> str:
        word = text.lower()
        word = (aliases or {}).get(word, word)
        if word not in choices:
            msg = f"must be one of {', '.join(choices)}"
            raise ValueError(msg)
        return word

    return parse


def colour(text: str) -> tuple[int, int, int]:
    """A colour as CSS writes it in hex: #rgb or #rrggbb (the # may be left out)."""
    digits = text.removeprefix("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    if len(digits) != 6 or any(digit not in "0123456789abcdefABCDEF" for digit in digits):
        msg = "must be a colour as #rgb or #rrggbb"
        raise ValueError(msg)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
