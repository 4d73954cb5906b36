"""quality=auto and format=auto against the real gunicorn: headers, errors, /variants, metrics."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
import requests
from PIL import Image

from imgopt.imaging.quality.search import MAX_PROBES
from testing import images
from testing.http import assert_json_error, post

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = pytest.mark.live

DEFAULT_TARGET = 75.0


@pytest.fixture(scope="module")
def photo() -> bytes:
    return images.encode(images.textured((480, 360), seed=11), "JPEG", quality=95)


def test_every_lossy_response_says_its_quality_and_auto_adds_its_score(live_server, photo):
    fixed = post(live_server, "/convert", photo, format="webp", quality="70")
    assert fixed.status_code == 200
    assert fixed.headers["X-Image-Quality"] == "70" and "X-Image-Score" not in fixed.headers
    default = post(live_server, "/convert", photo, format="avif")
    assert default.headers["X-Image-Quality"] == "80"
    lossless = post(live_server, "/convert", photo, format="png")
    assert "X-Image-Quality" not in lossless.headers and "X-Image-Score" not in lossless.headers

    auto = post(live_server, "/convert", photo, format="webp", quality="auto")
    assert auto.status_code == 200, auto.text
    assert auto.headers["Content-Type"] == "image/webp"
    assert 1 <= int(auto.headers["X-Image-Quality"]) <= 100
    assert re.fullmatch(r"[0-9]{1,3}\.[0-9]{2}", auto.headers["X-Image-Score"])
    assert float(auto.headers["X-Image-Score"]) >= DEFAULT_TARGET
    again = post(live_server, "/convert", photo, format="webp", quality=auto.headers["X-Image-Quality"])
    assert again.content == auto.content, "X-Image-Quality is the quality that makes these bytes"


def test_a_higher_target_buys_a_higher_quality(live_server, photo):
    low = post(live_server, "/convert", photo, format="avif", quality="auto", target="60")
    high = post(live_server, "/convert", photo, format="avif", quality="AUTO", target="85.5")
    assert low.status_code == high.status_code == 200
    assert int(low.headers["X-Image-Quality"]) < int(high.headers["X-Image-Quality"])
    assert len(low.content) < len(high.content)
    assert 60 <= float(low.headers["X-Image-Score"]) < float(high.headers["X-Image-Score"])
    assert float(high.headers["X-Image-Score"]) >= 85.5


def test_format_auto_answers_with_the_format_that_won(live_server, photo):
    response = post(live_server, "/convert", photo, format="auto", width="320")
    assert response.status_code == 200, response.text
    media_type = response.headers["Content-Type"]
    assert media_type in ("image/webp", "image/avif")
    assert Image.open(io.BytesIO(response.content)).format.lower() == media_type.split("/")[1]
    assert float(response.headers["X-Image-Score"]) >= DEFAULT_TARGET
    candidates = [
        post(live_server, "/convert", photo, format=fmt, quality="auto", width="320").content
        for fmt in ("webp", "avif")
    ]
    assert response.content == min(candidates, key=len)


ERRORS = [
    ({"format": "png", "quality": "auto"}, "invalid_quality"),
    ({"format": "webp", "quality": "auto", "lossless": "true"}, "invalid_quality"),
    ({"format": "auto", "lossless": "true"}, "invalid_format"),
    ({"quality": "automatic"}, "invalid_quality"),
    ({"quality": "auto", "target": "49.9"}, "invalid_target"),
    ({"quality": "auto", "target": "95.01"}, "invalid_target"),
    ({"quality": "auto", "target": "nan"}, "invalid_target"),
    ({"quality": "auto", "target": "8e1"}, "invalid_target"),
    ({"quality": "auto", "target": ""}, "invalid_target"),
]


@pytest.mark.parametrize(("fields", "code"), ERRORS)
def test_bad_auto_fields_are_json_400s(live_server, photo, fields, code):
    message = assert_json_error(post(live_server, "/convert", photo, **fields), 400, code)
    assert message


def test_variants_mix_fixed_and_auto_renditions(live_server, photo):
    wanted = [
        {"name": "fixed", "format": "webp", "quality": 60, "width": 240},
        {"name": "auto", "format": "avif", "quality": "auto", "width": 240},
        {"name": "picked", "format": "auto", "target": 80},
        {"name": "lossless", "format": "png", "width": 64},
    ]
    response = post(live_server, "/variants", photo, variants=wanted)
    assert response.status_code == 200, response.text
    renditions = {item["name"]: item for item in response.json()["variants"]}
    assert (renditions["fixed"]["quality"], renditions["fixed"]["score"]) == (60, None)
    assert renditions["auto"]["format"] == "avif" and renditions["auto"]["score"] >= DEFAULT_TARGET
    assert renditions["picked"]["format"] in ("webp", "avif") and renditions["picked"]["score"] >= 80
    assert (renditions["lossless"]["quality"], renditions["lossless"]["score"]) == (None, None)
    for item in wanted:
        fields = {key: str(value) for key, value in item.items() if key != "name"}
        single = post(live_server, "/convert", photo, **fields)
        rendition = renditions[item["name"]]
        assert base64.b64decode(rendition["data"]) == single.content, item["name"]
        assert rendition["media_type"] == single.headers["Content-Type"]
        if rendition["score"] is not None:
            assert f"{rendition['score']:.2f}" == single.headers["X-Image-Score"]


def test_chosen_qualities_are_a_histogram_in_the_metrics(live_server, photo):
    assert post(live_server, "/convert", photo, format="webp", quality="auto", width="200").status_code == 200
    assert post(live_server, "/convert", photo, format="webp", quality="auto", width="200").status_code == 200
    text = requests.get(f"{live_server.url}/metrics", headers=live_server.headers(), timeout=5).text
    counts = re.search(r'imgopt_auto_quality_count\{format="webp"\} ([0-9.]+)', text)
    assert counts and float(counts[1]) >= 2
    assert re.search(r'imgopt_auto_quality_bucket\{format="webp",le="100.0"\} ([0-9.]+)', text)


def test_the_encodes_auto_made_are_logged_and_counted(live_server):
    """A photo large enough to be predicted: its line gives `probes`, the histogram counts it, and a
    repeat of the request gives the same bytes (the prediction is as deterministic as the search)."""
    large = images.encode(images.textured((1600, 1200), seed=12), "JPEG", quality=92)
    lines_before = len(live_server.log().splitlines())
    before = requests.get(f"{live_server.url}/metrics", headers=live_server.headers(), timeout=5).text
    fields = {"format": "avif", "quality": "auto", "width": "1200"}
    first = post(
        live_server, "/convert", large, {**live_server.headers(), "X-Request-Id": "auto-probes"}, **fields
    )
    assert first.status_code == 200, first.text
    assert float(first.headers["X-Image-Score"]) >= DEFAULT_TARGET
    assert post(live_server, "/convert", large, **fields).content == first.content
    after = requests.get(f"{live_server.url}/metrics", headers=live_server.headers(), timeout=5).text
    entries = [
        json.loads(line) for line in live_server.log().splitlines()[lines_before:] if line.startswith("{")
    ]
    logged = next(entry for entry in entries if entry.get("request_id") == "auto-probes")
    assert 1 <= logged["probes"] <= MAX_PROBES
    assert logged["quality"] == int(first.headers["X-Image-Quality"])

    def count(text: str, bucket: str) -> float:
        found = re.search(
            rf'imgopt_auto_quality_probes_bucket\{{format="avif",le="{re.escape(bucket)}"\}} ([0-9.]+)', text
        )
        return float(found[1]) if found else 0.0

    assert count(after, "+Inf") - count(before, "+Inf") == 2
    # Both requests made as many encodes as the logged one: at most MAX_PROBES, as few as it made.
    assert count(after, f"{MAX_PROBES}.0") - count(before, f"{MAX_PROBES}.0") == 2
    below = f"{logged['probes'] - 1}.0"
    assert count(after, below) - count(before, below) == 0
