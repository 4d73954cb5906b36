"""The image contract's JSON Schema (docs/image-contract.schema.json): a valid schema, the documented
example valid under it, and the contracts front ends cannot render refused. What the Laravel package emits
is checked against it in tests/test_laravel_package.py and tests/test_medialibrary.py."""

from __future__ import annotations

import pytest

from testing.image_contract import documented_example, validator

VALIDATOR = validator()


def test_the_documented_example_is_a_valid_contract():
    example = documented_example()
    VALIDATOR.validate(example)
    assert [source["type"] for source in example["sources"]] == ["image/avif", "image/webp"]


@pytest.mark.parametrize(
    "change",
    [
        {"width": 0},
        {"height": "3024"},
        {"src": ""},
        {"sources": [{"type": "image/avif", "srcset": "a.avif"}]},  # no width descriptor
        {"sources": [{"type": "avif", "srcset": "a.avif 320w"}]},
        {"placeholder": {"color": "red"}},
        {"extra": True},
    ],
)
def test_what_a_front_end_cannot_render_is_refused(change):
    contract = documented_example() | change
    assert not VALIDATOR.is_valid(contract)


@pytest.mark.parametrize("missing", ["src", "width", "height", "alt", "sources"])
def test_every_required_field_is_required(missing):
    contract = documented_example()
    del contract[missing]
    assert not VALIDATOR.is_valid(contract)
