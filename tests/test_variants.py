"""Parsing /variants: the JSON list, names, merging with the form's defaults, and every error."""

from __future__ import annotations

import json

import pytest

from imgopt.errors import BadRequest, InvalidOption, InvalidVariants
from imgopt.http.forms import parse_variants
from imgopt.imaging.options import ConvertOptions


def parse(variants, **defaults):
    form = {key: str(value) for key, value in defaults.items()}
    if variants is not None:
        form["variants"] = variants if isinstance(variants, str) else json.dumps(variants)
    return parse_variants(form, max_variants=16, max_dimension=4096)


def test_items_keep_their_order_and_names():
    parsed = parse([{"name": "b", "width": 10}, {"name": "a", "width": 20}])
    assert [(name, options.width) for name, options in parsed] == [("b", 10), ("a", 20)]


def test_form_fields_are_defaults_that_items_override():
    parsed = parse([{"name": "x"}, {"name": "y", "quality": 50, "format": "webp"}], quality=70, format="avif")
    assert parsed[0][1] == ConvertOptions(format="avif", quality=70)
    assert parsed[1][1] == ConvertOptions(format="webp", quality=50)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"width": 320}, {"width": 320}),
        ({"width": "320"}, {"width": 320}),
        ({"width": 320.0}, {"width": 320}),
        ({"enlarge": True, "lossless": False}, {"enlarge": True, "lossless": False}),
        ({"enlarge": "yes"}, {"enlarge": True}),
        ({"animated": 0}, {"animated": False}),
        ({"format": "JPG"}, {"format": "jpeg"}),
        ({"width": None}, {"width": None}),
    ],
)
def test_json_numbers_booleans_and_strings_are_accepted(item, expected):
    options = parse([{"name": "n", **item}])[0][1]
    assert {key: getattr(options, key) for key in expected} == expected


def test_unknown_form_fields_are_ignored_as_in_convert():
    assert parse([{"name": "n"}], colour="blue")[0][1] == ConvertOptions()


@pytest.mark.parametrize(
    ("variants", "fragment"),
    [
        (None, "send a 'variants' field"),
        ("[", "not valid JSON"),
        ("{}", "non-empty JSON array"),
        ("[]", "non-empty JSON array"),
        ('"w320"', "non-empty JSON array"),
        ([1], "variants[0] must be a JSON object"),
        ([{"width": 3}], "variants[0] needs a 'name'"),
        ([{"name": ""}], "needs a 'name'"),
        ([{"name": "a b"}], "needs a 'name'"),
        ([{"name": "x" * 65}], "needs a 'name'"),
        ([{"name": 7}], "needs a 'name'"),
        ([{"name": "a"}, {"name": "a"}], "used twice"),
        ([{"name": "a", "widht": 3}], "unknown field 'widht'"),
    ],
)
def test_malformed_variants_are_invalid_variants(variants, fragment):
    with pytest.raises(InvalidVariants) as caught:
        parse(variants)
    assert (caught.value.status, caught.value.code) == (400, "invalid_variants")
    assert fragment in caught.value.message


def test_more_than_max_variants_is_too_many_variants():
    with pytest.raises(BadRequest) as caught:
        parse([{"name": f"v{index}"} for index in range(17)])
    assert caught.value.code == "too_many_variants"
    assert "MAX_VARIANTS" in caught.value.message
    assert len(parse([{"name": f"v{index}"} for index in range(16)])) == 16


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"width": 0}, "invalid_width"),
        ({"width": 99999}, "invalid_width"),
        ({"height": "tall"}, "invalid_height"),
        ({"quality": 80.5}, "invalid_quality"),
        ({"quality": True}, "invalid_quality"),
        ({"format": "gif"}, "invalid_format"),
        ({"fit": "stretch"}, "invalid_fit"),
        ({"enlarge": "maybe"}, "invalid_enlarge"),
        ({"lossless": [1]}, "invalid_lossless"),
        ({"animated": {"a": 1}}, "invalid_animated"),
    ],
)
def test_a_bad_field_gets_convert_s_code_and_names_the_variant(item, code):
    with pytest.raises(InvalidOption) as caught:
        parse([{"name": "ok"}, {"name": "hero-wide", **item}])
    assert caught.value.code == code
    assert caught.value.message.startswith("variant 'hero-wide': ")


def test_a_bad_default_is_reported_like_convert_reports_it():
    with pytest.raises(InvalidOption) as caught:
        parse([{"name": "a", "quality": 50}], quality=0)
    assert caught.value.code == "invalid_quality"
    assert not caught.value.message.startswith("variant")
