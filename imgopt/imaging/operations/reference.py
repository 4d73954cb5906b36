"""docs/api.md's table of operations and docs/openapi.yaml's ``x-operations``, made from the declarations:
`make docs` writes them (``python -m imgopt.imaging.operations.reference``) and tests/test_operations.py fails
when a page differs from what the declarations say."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from imgopt.imaging.operations import NOT_MADE, OPERATIONS
from imgopt.imaging.operations.spec import REQUIRED, OperationSpec

START, END = (
    "<!-- operations: made by `make docs` from imgopt/imaging/operations/ -->",
    "<!-- end of operations -->",
)
HEADER = "| operation | arguments, in order: values (default) | what it does | GD, as spatie/image calls it |"
YAML_START, YAML_END = "# x-operations: made by `make docs`", "# end of x-operations"


def _default(value: Any) -> str:
    if value is REQUIRED:
        return "required"
    if isinstance(value, tuple) and len(value) == 3:
        return "#{:02x}{:02x}{:02x}".format(*value)
    return str(value)


def _arguments(spec: OperationSpec) -> str:
    shown = [
        f"`{param.name}` {param.values} ({_default(param.default)})"
        for param in spec.params
        if param.name != spec.image_part
    ]
    return "; ".join(shown) or "none"


def markdown() -> str:
    """The table of docs/api.md, between its markers."""
    rows = [
        f"| `{spec.name}` | {_arguments(spec)} | {spec.summary} | `{spec.follows}` |"
        for spec in OPERATIONS.values()
    ]
    rows += [f"| `{name}` | | not made: {why} | |" for name, why in NOT_MADE.items()]
    return "\n".join(
        [
            START,
            HEADER,
            "|---|---|---|---|",
            *rows,
            END,
        ]
    )


def yaml_lines() -> str:
    """docs/openapi.yaml's ``x-operations``, between its markers (plain YAML, two spaces an indent)."""
    lines = [YAML_START, "x-operations:"]
    for spec in OPERATIONS.values():
        lines.append(f"  - name: {spec.name}")
        lines.append(f"    summary: {_quoted(spec.summary)}")
        lines.append(f"    follows: {_quoted(spec.follows)}")
        lines.append(f"    error: invalid_{spec.name}")
        params = [param for param in spec.params if param.name != spec.image_part]
        lines.append("    arguments:" + ("" if params else " []"))
        for param in params:
            lines.append(f"      - name: {param.name}")
            lines.append(f"        values: {_quoted(param.values)}")
            lines.append(f"        default: {_quoted(_default(param.default))}")
        if spec.image_part:
            lines.append(f"    file_part: {spec.image_part}")
    lines.append(YAML_END)
    return "\n".join(lines)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rewrite(text: str, start: str, end: str, made: str) -> str:
    """``text`` with what lies between ``start`` and ``end`` (both included) replaced by ``made``."""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        msg = f"no {start!r} ... {end!r} section to rewrite"
        raise ValueError(msg)
    return pattern.sub(lambda _match: made, text)


def main(api: str, openapi: str) -> None:
    Path(api).write_text(rewrite(Path(api).read_text(), START, END, markdown()))
    Path(openapi).write_text(rewrite(Path(openapi).read_text(), YAML_START, YAML_END, yaml_lines()))


if __name__ == "__main__":
    main(*sys.argv[1:3])
