"""The one registry of error codes: every code that can be raised is registered and documented, and every
registered or documented code can be raised."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from imgopt.errors import ERROR_CODES, HTTP_STATUS_CODES, OPERATION_NAMES, ImgoptError, InvalidOption
from imgopt.imaging.options import OPTION_FIELDS
from imgopt.server.protocol_errors import PROTOCOL_ERRORS

ROOT = Path(__file__).parent.parent
SOURCES = sorted((ROOT / "imgopt").rglob("*.py"))


def codes_in_source() -> set[str]:
    """Codes the service can produce: ``code=...`` arguments, ``code = ...`` class attributes, the HTTP map,
    the literal codes the error handlers answer with, ``invalid_<field>`` for every option field and
    ``invalid_<operation>`` for every operation, and the codes the worker answers gunicorn's parse errors
    with."""
    found = {f"invalid_{field}" for field in OPTION_FIELDS} | set(HTTP_STATUS_CODES.values())
    found |= {f"invalid_{name}" for name in OPERATION_NAMES}  # InvalidOption(operation name)
    found |= {code for _kind, code in PROTOCOL_ERRORS}
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant):
                found.add(node.value.value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                if any(isinstance(target, ast.Name) and target.id == "code" for target in node.targets):
                    found.add(node.value.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if node.target.id == "code" and isinstance(node.value, ast.Constant):
                    found.add(node.value.value)
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "error_response"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                found.add(node.args[1].value)
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", None) == "get"
                and len(node.args) == 2
            ):
                default = node.args[1]
                if isinstance(default, ast.Constant) and default.value in ERROR_CODES:
                    found.add(default.value)  # HTTP_STATUS_CODES.get(status, "http_error")
    return found


def documented_in_api_md() -> set[str]:
    """Codes in the code column of docs/api.md's error tables."""
    codes = set()
    for line in (ROOT / "docs/api.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"\d(\d\d|xx)", cells[0]):
            codes.update(re.findall(r"`([a-z_]+)`", cells[1]))
    return codes


def documented_in_openapi() -> set[str]:
    spec = yaml.safe_load((ROOT / "docs/openapi.yaml").read_text())
    return set(spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"])


def test_every_code_the_source_can_raise_is_registered():
    assert codes_in_source() - set(ERROR_CODES) == set()


def test_every_registered_code_can_be_raised():
    assert set(ERROR_CODES) - codes_in_source() == set()


def test_every_option_field_has_its_invalid_code():
    assert {f"invalid_{field}" for field in OPTION_FIELDS} <= set(ERROR_CODES)


@pytest.mark.parametrize(
    ("source", "documented"), [("api.md", documented_in_api_md), ("openapi", documented_in_openapi)]
)
def test_the_docs_list_exactly_the_registered_codes(source, documented):
    codes = documented()
    assert set(ERROR_CODES) - codes == set(), f"registered but missing from {source}"
    assert codes - set(ERROR_CODES) == set(), f"documented in {source} but never raised"


def test_api_md_gives_each_code_its_registered_status():
    for line in (ROOT / "docs/api.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"\d(\d\d|xx)", cells[0]):
            for code in re.findall(r"`([a-z_]+)`", cells[1]):
                if cells[0] != "4xx":  # http_error: Werkzeug's status, whatever it is
                    assert ERROR_CODES[code].status == int(cells[0]), code


def test_an_unregistered_code_cannot_be_raised():
    with pytest.raises(ValueError, match=r"not in imgopt\.errors\.ERROR_CODES"):
        ImgoptError("x", code="made_up")
    with pytest.raises(ValueError):
        InvalidOption("colour", "no such field")


@pytest.mark.parametrize(("code", "entry"), sorted(ERROR_CODES.items()))
def test_each_error_takes_its_status_from_the_registry(code, entry):
    assert ImgoptError("x", code=code).status == entry.status
