"""The image contract's JSON Schema (docs/image-contract.schema.json), for the tests that check what the
Laravel package emits. jsonschema_rs comes with schemathesis, a dev dependency."""

from __future__ import annotations

import json
import re

from testing.server import ROOT

SCHEMA = json.loads((ROOT / "docs" / "image-contract.schema.json").read_text())


def validator():
    import jsonschema_rs

    return jsonschema_rs.validator_for(SCHEMA)


def validate(contract: dict) -> None:
    """Raises, naming what is wrong, unless ``contract`` is valid under the schema."""
    validator().validate(contract)


def documented_example() -> dict:
    """The example docs/image-contract.md shows."""
    page = (ROOT / "docs" / "image-contract.md").read_text()
    return json.loads(re.search(r"```json\n(.*?)\n```", page, re.S)[1])
