"""Property-based hostile fields: whatever a caller puts in a form field or in the variants JSON, the answer
is an image or a JSON 4xx with a registered code, never a 500.

Runs on Flask's test client with a small MAX_DIMENSION, so hundreds of examples take seconds; the live
framing tests (test_hostile_protocol.py) cover the same app under gunicorn.
"""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imgopt import create_app
from imgopt.config import Settings
from imgopt.errors import ERROR_CODES
from imgopt.imaging.options import OPTION_FIELDS
from testing import images
from testing.server import TOKEN

PHOTO = images.jpeg((40, 30))
SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Text a field might carry: the valid words, numbers in every spelling, and anything at all.
WORDS = [
    "webp",
    "avif",
    "jpeg",
    "jpg",
    "png",
    "auto",
    "cover",
    "contain",
    "inside",
    "fill",
    "smart",
    "centre",
]
NUMBERISH = [
    "true",
    "false",
    "yes",
    "0",
    "1",
    "-1",
    "1e3",
    "NaN",
    "Infinity",
    "0x10",
    "\u0663",
    "1,2,3,4",
    "0.5,0.5",
]
FIELD_TEXT = (
    st.sampled_from(WORDS + NUMBERISH)
    | st.integers(-(10**30), 10**30).map(str)
    | st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.text(max_size=40)
)


@pytest.fixture(scope="module")
def client():
    app = create_app(Settings(api_token=TOKEN, log_level="critical", max_dimension=64))
    return app.test_client()


def post(client, route: str, fields: dict[str, str]):
    return client.post(
        route,
        data={"file": (io.BytesIO(PHOTO), "photo"), **fields},
        headers={"Authorization": f"Bearer {TOKEN}"},
        content_type="multipart/form-data",
    )


def assert_image_or_json_4xx(response) -> None:
    if response.status_code == 200:
        return
    assert 400 <= response.status_code < 500, response.get_data()[:300]
    error = response.get_json()["error"]
    assert error["code"] in ERROR_CODES
    assert ERROR_CODES[error["code"]].status == response.status_code


@SETTINGS
@given(fields=st.dictionaries(st.sampled_from(OPTION_FIELDS), FIELD_TEXT, max_size=len(OPTION_FIELDS)))
def test_any_form_fields_get_an_image_or_a_json_4xx(client, fields):
    assert_image_or_json_4xx(post(client, "/convert", fields))


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(OPTION_FIELDS)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
VARIANT = st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "w320"]) | JSON_SCALARS},
    optional={field: JSON_VALUES | FIELD_TEXT for field in OPTION_FIELDS},
)


@SETTINGS
@given(variants=st.lists(VARIANT | JSON_VALUES, max_size=4) | JSON_VALUES)
def test_any_variants_json_gets_renditions_or_a_json_4xx(client, variants):
    assert_image_or_json_4xx(post(client, "/variants", {"variants": json.dumps(variants)}))


# Texts json.loads itself treats specially: depth, literals outside standard JSON, numbers of every form,
# repeated keys, and sizes near the field limit.
RAW_VARIANTS = {
    "nested-arrays": "[" * 20000 + "]" * 20000,
    "nested-objects": '{"a":' * 20000 + "1" + "}" * 20000,
    "nested-in-a-field": '[{"name": "a", "crop": ' + "[" * 5000 + "]" * 5000 + "}]",
    "nested-name": '[{"name": ' + "[" * 900 + "]" * 900 + "}]",
    "nan": '[{"name": "a", "width": NaN}]',
    "infinity": '[{"name": "a", "width": Infinity, "quality": -Infinity}]',
    "huge-exponent": '[{"name": "a", "width": 1e999}]',
    "huge-integer": '[{"name": "a", "width": ' + "9" * 5000 + "}]",
    "long-integer": '[{"name": "a", "width": ' + "9" * 4000 + "}]",
    "negative-zero": '[{"name": "a", "width": -0.0}]',
    "duplicate-keys": '[{"name": "a", "width": 10, "width": 20}]',
    "duplicate-names": '[{"name": "a"}, {"name": "a"}]',
    "bom": '\ufeff[{"name": "a"}]',
    "trailing-garbage": '[{"name": "a"}] x',
    "lone-surrogate": '[{"name": "\\ud800"}]',
    "empty": "",
    "null": "null",
    "object": '{"name": "a"}',
    "many-items": json.dumps([{"name": f"v{index}", "width": 8} for index in range(2000)]),
    "near-the-field-limit": json.dumps([{"name": "a", "format": "webp" + " " * 65000}]),
}


@pytest.mark.parametrize("raw", RAW_VARIANTS.values(), ids=RAW_VARIANTS.keys())
def test_hostile_variants_texts_get_a_json_4xx(client, raw):
    response = post(client, "/variants", {"variants": raw})
    assert_image_or_json_4xx(response)
    if response.status_code != 200:
        assert response.get_json()["error"]["code"] in (
            "invalid_variants",
            "too_many_variants",
            "invalid_width",
            "invalid_quality",
            "bad_request",
        )


def test_a_structure_too_deep_to_parse_is_invalid_variants(client):
    response = post(client, "/variants", {"variants": RAW_VARIANTS["nested-arrays"]})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_variants"


def test_a_repeated_key_is_refused_as_ambiguous(client):
    response = post(client, "/variants", {"variants": RAW_VARIANTS["duplicate-keys"]})
    assert response.status_code == 400
    assert "appears twice" in response.get_json()["error"]["message"]
