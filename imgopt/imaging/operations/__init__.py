"""Operations on the frame after its geometry, in the order a caller lists them: spatie/image's pixel
operations, with GD's pixels (docs/api.md, "Operations").

Each operation is one module declaring one ``OperationSpec`` (imgopt/imaging/operations/spec.py): its
parameters with their parsers and ranges, its docs line, whether renditions may share its result, how it
changes the frame's size, its cost, and its pixel function. ``OPERATIONS`` lists them; the parser, the
frame step, the budgets and the docs read them from here. A new operation is one module and one line here
(and its name in imgopt/errors.py, for its error code).

A caller writes them as ``name(arguments)``, one after another, separated by ``:`` (thumbor's filters read
the same): ``sharpen(10):border(2, overlay, #ffffff)``; arguments by position in the declared order, or as
``name=value``; an operation without arguments may leave out its parentheses (``greyscale``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from PIL import Image

from imgopt.errors import InvalidOption
from imgopt.imaging.operations.blur import BLUR
from imgopt.imaging.operations.border import BORDER
from imgopt.imaging.operations.brightness import BRIGHTNESS
from imgopt.imaging.operations.colorize import COLORIZE
from imgopt.imaging.operations.contrast import CONTRAST
from imgopt.imaging.operations.flip import FLIP
from imgopt.imaging.operations.gamma import GAMMA
from imgopt.imaging.operations.greyscale import GREYSCALE
from imgopt.imaging.operations.orientation import ORIENTATION
from imgopt.imaging.operations.pixelate import PIXELATE
from imgopt.imaging.operations.sepia import SEPIA
from imgopt.imaging.operations.sharpen import SHARPEN
from imgopt.imaging.operations.spec import Assets, Operation, OperationSpec
from imgopt.imaging.operations.watermark import WATERMARK

OPERATIONS: dict[str, OperationSpec] = {
    spec.name: spec
    for spec in (
        SHARPEN,
        BLUR,
        GREYSCALE,
        SEPIA,
        BRIGHTNESS,
        CONTRAST,
        GAMMA,
        COLORIZE,
        PIXELATE,
        FLIP,
        ORIENTATION,
        BORDER,
        WATERMARK,
    )
}

# spatie/image calls the service does not make, named so that a caller is told so.
NOT_MADE = {"text": "text needs fonts the service does not ship; make it with the gd or imagick driver"}

# At most this many operations in one rendition.
MAX_OPERATIONS = 16

CALL = re.compile(r"\s*([A-Za-z_]+)\s*(?:\(([^()]*)\))?\s*(?::|$)")
NAMED = re.compile(r"\s*([a-z_]+)\s*=(.*)", re.S)

__all__ = [
    "MAX_OPERATIONS",
    "NOT_MADE",
    "OPERATIONS",
    "Assets",
    "Operation",
    "OperationSpec",
    "apply",
    "parse",
]


def parse(text: str, parts: Mapping[str, bytes] | None = None) -> tuple[Operation, ...]:
    """The operations ``text`` lists, each checked against its declaration; an operation that takes a file
    part (the watermark) gets its bytes from ``parts``. Raises InvalidOption with the code of the operation
    at fault (``invalid_sharpen``), or ``invalid_operations`` for what names none."""
    text = text.strip()
    if not text:
        return ()
    operations: list[Operation] = []
    position = 0
    while position < len(text):
        match = CALL.match(text, position)
        if match is None or match.end() == position:
            shown = text[position : position + 40]
            msg = f"operations are name(arguments) separated by ':', as sharpen(10):greyscale; got {shown!r}"
            raise InvalidOption("operations", msg)
        position = match.end()
        operations.append(_one(match[1].lower(), match[2] or "", parts or {}))
    if len(operations) > MAX_OPERATIONS:
        msg = f"at most {MAX_OPERATIONS} operations may be asked for at once, got {len(operations)}"
        raise InvalidOption("operations", msg)
    return tuple(operations)


def _one(name: str, arguments: str, parts: Mapping[str, bytes]) -> Operation:
    spec = OPERATIONS.get(name)
    if spec is None:
        why = NOT_MADE.get(name, f"the operations are {', '.join(OPERATIONS)}")
        msg = f"there is no operation {name!r}: {why}"
        raise InvalidOption("operations", msg)
    positional: list[str] = []
    named: dict[str, str] = {}
    for argument in (part for part in arguments.split(",") if part.strip()) if arguments.strip() else ():
        pair = NAMED.fullmatch(argument)
        if pair:
            named[pair[1]] = pair[2]
        elif named:
            msg = f"{name}: a positional argument after a named one ({argument.strip()[:40]!r})"
            raise InvalidOption(name, msg)
        else:
            positional.append(argument)
    try:
        operation = spec.parse(positional, named)
    except ValueError as error:
        raise InvalidOption(name, f"{name}: {error}") from None
    if spec.image_part is not None:
        data = parts.get(spec.image_part)
        if not data:
            msg = f"{name} takes its image from the request's {spec.image_part!r} file part; send one"
            raise InvalidOption(name, msg)
        operation = Operation(name, ((spec.image_part, bytes(data)), *operation.values))
    return operation


def final_size(size: tuple[int, int], operations: Iterable[Operation]) -> tuple[int, int]:
    """The frame's size after ``operations``; InvalidOption when one cannot apply to what it gets."""
    for operation in operations:
        try:
            size = OPERATIONS[operation.name].size(size, operation)
        except ValueError as error:
            raise InvalidOption(operation.name, f"{operation.name}: {error}") from None
    return size


def passes(operations: Iterable[Operation]) -> float:
    """The operations' cost, in passes over the frame (for the encode-time budget)."""
    return sum(OPERATIONS[operation.name].passes(operation) for operation in operations)


def prepare(operations: Iterable[Operation], assets: Assets, decode: Any) -> None:
    """What the operations need besides the frame, made once for the set into ``assets``."""
    for operation in operations:
        OPERATIONS[operation.name].prepare(operation, assets, decode)


def apply(image: Image.Image, operations: Iterable[Operation], assets: Assets) -> Image.Image:
    """The frame after each operation in turn."""
    for operation in operations:
        image = OPERATIONS[operation.name].apply(image, operation, assets)
    return image
