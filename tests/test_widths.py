"""widths=auto: the rule that chooses a rendition's srcset widths from the bytes of real encodes, the set it
makes (a flat graphic gets fewer widths than a busy photo, none wider than the source, the limits kept), and
/variants' answers and errors."""

from __future__ import annotations

import base64
import io
import itertools
import json
import math

import pytest
from PIL import Image

from imgopt.errors import ImageTooLarge
from imgopt.imaging import geometry
from imgopt.imaging.context import RequestContext
from imgopt.imaging.limits import estimate_encode_seconds
from imgopt.imaging.options import AutoWidths, ConvertOptions
from imgopt.imaging.pipeline import render_set
from imgopt.imaging.widths import STEP_RATIO, choose
from testing import images
from testing.settings import pipeline_settings

SETTINGS = pipeline_settings()


@pytest.mark.parametrize(
    ("ends", "spec", "expected"),
    [
        # A steep photo: as many widths as max_images allows, evenly in log width.
        ((320, 1920, 12_000, 200_000), AutoWidths(), [320, 458, 655, 938, 1342, 1920]),
        ((320, 1920, 12_000, 200_000), AutoWidths(max_images=3), [320, 784, 1920]),
        # A flat graphic whose whole range costs a few kilobytes: only what is worth its bytes.
        ((320, 1600, 1_900, 13_500), AutoWidths(), [320, 1600]),
        ((320, 1600, 1_900, 13_500), AutoWidths(bytes_step=0), [320, 442, 609, 840, 1160, 1600]),
        # Nearly the same bytes at both ends: one file is enough.
        ((320, 800, 9_000, 9_500), AutoWidths(), [800]),
        # Nothing between the ends when the source is as narrow as min_width.
        ((320, 320, 9_000, 9_000), AutoWidths(), [320]),
    ],
)
def test_the_widths_follow_the_bytes_of_the_two_ends(ends, spec, expected):
    assert choose(*ends, spec) == expected


def test_neighbouring_files_cost_about_the_same_ratio_and_no_more_than_the_step_when_files_allow():
    widths = choose(320, 1920, 12_000, 40_000, AutoWidths(max_images=20, bytes_step=0))
    exponent = math.log(40_000 / 12_000) / math.log(1920 / 320)  # the power law through both ends
    ratios = [(high / low) ** exponent for low, high in itertools.pairwise(widths)]
    assert max(ratios) <= STEP_RATIO + 0.01
    assert max(ratios) - min(ratios) < 0.02


def auto(data: bytes, **spec) -> list:
    requests = [("img", ConvertOptions(widths=AutoWidths(**spec)))]
    return list(render_set(data, requests, SETTINGS).renditions)


def test_a_flat_graphic_gets_fewer_widths_than_a_busy_photo():
    flat = auto(images.encode(images.flat_graphic((1600, 1200)), "PNG"))
    busy = auto(images.encode(images.textured((1600, 1200)), "PNG"))
    assert 1 <= len(flat) < len(busy)
    assert len(busy) == AutoWidths().max_images


def test_no_width_is_wider_than_the_source_and_nothing_is_enlarged():
    made = auto(images.encode(images.textured((900, 600)), "PNG"), max_width=4000)
    assert max(rendition.width for rendition in made) == 900
    assert all(rendition.height == round(rendition.width * 600 / 900) for rendition in made)
    (only,) = auto(images.encode(images.textured((200, 150)), "PNG"))
    assert (only.width, only.height) == (200, 150)


def test_the_limits_are_kept_and_the_renditions_are_named_by_width_narrowest_first():
    made = auto(
        images.encode(images.textured((1600, 1200)), "PNG"), min_width=400, max_width=1200, max_images=3
    )
    assert [rendition.name for rendition in made] == [f"img-{rendition.width}" for rendition in made]
    widths = [rendition.width for rendition in made]
    assert widths == sorted(widths) and widths[0] == 400 and widths[-1] == 1200 and len(widths) <= 3


def test_a_crop_is_the_region_the_widths_are_measured_against():
    data = images.encode(images.textured((1600, 1200)), "PNG")
    requests = [("c", ConvertOptions(crop=(0, 0, 1000, 500), widths=AutoWidths()))]
    made = render_set(data, requests, SETTINGS).renditions
    assert max(rendition.width for rendition in made) == 1000
    assert all(abs(rendition.height * 2 - rendition.width) <= 1 for rendition in made)


def test_fixed_renditions_keep_their_place_among_auto_ones():
    data = images.encode(images.textured((1600, 1200)), "PNG")
    requests = [
        ("card", ConvertOptions(width=200, height=200, fit="cover")),
        ("webp", ConvertOptions(widths=AutoWidths(max_images=2))),
        ("thumb", ConvertOptions(width=64)),
    ]
    names = [rendition.name for rendition in render_set(data, requests, SETTINGS).renditions]
    assert names == ["card", "webp-320", "webp-1600", "thumb"]


def variants(client, auth, items, **fields):
    form = {"variants": json.dumps(items), **fields, "file": (io.BytesIO(images.jpeg((1200, 900))), "a.jpg")}
    return client.post("/variants", data=form, headers=auth)


def test_variants_answers_every_chosen_width_with_its_bytes(client, auth):
    response = variants(client, auth, [{"name": "webp", "widths": "auto", "max_width": 1000}])
    assert response.status_code == 200, response.get_data(as_text=True)
    answered = response.get_json()["variants"]
    assert answered and answered[-1]["width"] == 1000
    for item in answered:
        assert item["name"] == f"webp-{item['width']}"
        data = base64.b64decode(item["data"])
        assert len(data) == item["bytes"]
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (item["width"], item["height"])


def test_a_max_width_past_max_dimension_means_max_dimension(client, auth):
    form = {
        "variants": json.dumps([{"name": "wide", "widths": "auto", "max_width": 60000, "min_width": 3000}]),
        "file": (io.BytesIO(images.encode(images.textured((5000, 200)), "PNG")), "wide.png"),
    }
    response = client.post("/variants", data=form, headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["variants"][-1]["width"] == 4096  # MAX_DIMENSION


@pytest.mark.parametrize(
    ("items", "code"),
    [
        ([{"name": "a", "widths": "many"}], "invalid_widths"),
        ([{"name": "a", "widths": "auto", "width": 300}], "invalid_widths"),
        ([{"name": "a", "min_width": 300}], "invalid_min_width"),
        ([{"name": "a", "widths": "auto", "min_width": 900, "max_width": 400}], "invalid_min_width"),
        ([{"name": "a", "widths": "auto", "max_width": 0}], "invalid_max_width"),
        ([{"name": "a", "widths": "auto", "max_width": 65536}], "invalid_max_width"),
        ([{"name": "a", "widths": "auto", "max_images": 0}], "invalid_max_images"),
        ([{"name": "a", "widths": "auto", "bytes_step": -1}], "invalid_bytes_step"),
        (
            [{"name": "a", "widths": "auto", "max_images": 44}, {"name": "b", "widths": "auto"}],
            "too_many_variants",
        ),
        ([{"name": "a", "widths": "auto"}, {"name": "a-320", "width": 320}], "invalid_variants"),
    ],
)
def test_bad_widths_values_get_400_with_a_code(client, auth, items, code):
    response = variants(client, auth, items)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_convert_says_widths_auto_is_for_variants(client, auth):
    form = {"widths": "auto", "file": (io.BytesIO(images.jpeg()), "a.jpg")}
    response = client.post("/convert", data=form, headers=auth)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_widths" and "/variants" in error["message"]


def transparent_png(size=(1600, 1200)) -> bytes:
    image = images.textured(size).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize(size))
    return images.encode(image, "PNG")


def test_a_widths_auto_set_decodes_a_png_once_and_makes_what_a_fixed_set_at_its_widths_makes():
    data = transparent_png()
    auto = render_set(data, [("img", ConvertOptions(widths=AutoWidths()))], SETTINGS, describe=False)
    assert auto.decoded_sizes == ((1600, 1200),)  # the widths between the ends come from the ends' decode
    widths = [rendition.width for rendition in auto.renditions]
    assert len(widths) > 2
    fixed = render_set(
        data, [(f"img-{w}", ConvertOptions(width=w)) for w in widths], SETTINGS, describe=False
    )
    assert [(r.name, r.data) for r in auto.renditions] == [(r.name, r.data) for r in fixed.renditions]


def test_a_jpeg_decodes_each_scale_once_for_the_ends_and_the_widths_between_of_every_auto_rendition():
    requests = [(fmt, ConvertOptions(format=fmt, widths=AutoWidths())) for fmt in ("webp", "avif")]
    auto = render_set(images.photo((4000, 3000)), requests, SETTINGS)
    assert len(auto.decoded_sizes) == len(set(auto.decoded_sizes))
    assert len(auto.renditions) == 2 * AutoWidths().max_images


def test_one_budget_counts_the_most_widths_auto_could_make_before_anything_is_decoded():
    class Counting(RequestContext):
        asked = 0

        def check(self) -> None:
            self.asked += 1

    data = images.encode(images.textured((1600, 1200)), "PNG")
    requests = [("img", ConvertOptions(format="avif", widths=AutoWidths()))]
    ends = sum(
        estimate_encode_seconds(
            geometry.plan((1600, 1200), ConvertOptions(format="avif", width=w)),
            1,
            ConvertOptions(format="avif", width=w),
            SETTINGS,
        )
        for w in (320, 1600)
    )
    context = Counting()
    with pytest.raises(ImageTooLarge) as refused:
        render_set(data, requests, pipeline_settings(max_encode_seconds=ends * 1.2), context)
    assert refused.value.code == "output_too_large"
    assert context.asked == 0
