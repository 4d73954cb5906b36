"""POST /variants and POST /info against the real gunicorn, compared with POST /convert of the same fields
(by the fidelity rule of testing/fidelity.py)."""

from __future__ import annotations

import base64
import io
import json

import pytest
import requests
from PIL import Image

from imgopt import create_app
from imgopt.config import Settings
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import Rendition
from testing import images
from testing.fidelity import assert_as_faithful
from testing.http import assert_json_error, post
from testing.images import FILES, photo
from testing.server import TOKEN

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = pytest.mark.live

CMS = [
    {"name": f"{fmt}-{width}", "format": fmt, "width": width}
    for width in (320, 768)
    for fmt in ("webp", "avif")
]


def convert_fields(item: dict) -> dict:
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in item.items()
        if key != "name"
    }


SETS = {
    "rotated-jpeg": (lambda: photo((1200, 900), orientation=6), (900, 1200), False),
    "transparent-png": (
        lambda: images.encode(Image.new("RGBA", (300, 200), (0, 80, 200, 100)), "PNG"),
        (300, 200),
        True,
    ),
    "animated-gif": ((FILES / "animated-loop-3.gif").read_bytes, (370, 285), False),
    # Decoded at full size: its 320 px renditions are made from its 768 px resize.
    "png-photo": (lambda: images.encode(images.textured((1600, 1200)), "PNG"), (1600, 1200), False),
    "cmyk-jpeg": (
        (FILES / "Channel_digital_image_CMYK_color_no_profile.jpg").read_bytes,
        (500, 333),
        False,
    ),
}


@pytest.mark.parametrize("name", sorted(SETS))
def test_a_set_is_as_faithful_as_convert(live_server, name):
    make, upright, alpha = SETS[name]
    data = make()
    wanted = [
        *CMS,
        {"name": "thumb", "width": 100, "height": 100, "fit": "cover", "format": "jpeg", "quality": 60},
    ]
    response = post(live_server, "/variants", data, variants=wanted)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    body = response.json()
    assert (body["source"]["width"], body["source"]["height"]) == upright
    assert body["source"]["has_alpha"] is alpha
    assert [item["name"] for item in body["variants"]] == [item["name"] for item in wanted]
    for item, rendition in zip(wanted, body["variants"], strict=True):
        single = post(live_server, "/convert", data, **convert_fields(item))
        assert single.status_code == 200
        encoded = base64.b64decode(rendition["data"])
        region = tuple(rendition["region"]) if rendition["region"] else None
        ours = Rendition(
            rendition["name"],
            encoded,
            rendition["format"],
            rendition["width"],
            rendition["height"],
            rendition["frames"],
            crop_box=region,
        )
        # /convert does not report its region: the in-process test (test_renditions.py) compares regions.
        theirs = Rendition(
            rendition["name"],
            single.content,
            single.headers["Content-Type"].removeprefix("image/"),
            int(single.headers["X-Image-Width"]),
            int(single.headers["X-Image-Height"]),
            len(images.frames_of(single.content)),
            crop_box=region,
        )
        options = {key: value for key, value in item.items() if key != "name"}
        assert_as_faithful(data, ConvertOptions(**options), ours, theirs)
        assert rendition["bytes"] == len(encoded)
        assert rendition["media_type"] == single.headers["Content-Type"]
        assert rendition["format"] == item["format"]
        decoded = Image.open(io.BytesIO(encoded))
        assert (rendition["width"], rendition["height"]) == decoded.size
        assert (int(single.headers["X-Image-Width"]), int(single.headers["X-Image-Height"])) == decoded.size
    info = post(live_server, "/info", data)
    assert info.status_code == 200
    assert info.json() == {"source": body["source"], "placeholder": body["placeholder"]}


def test_an_animated_gif_stays_animated_in_a_set(live_server):
    data = (FILES / "animated-loop-3.gif").read_bytes()
    wanted = [{"name": "moving", "format": "webp"}, {"name": "still", "format": "webp", "animated": False}]
    body = post(live_server, "/variants", data, variants=wanted).json()
    assert body["source"]["frames"] == 10 and body["source"]["animated"] is True
    assert [item["frames"] for item in body["variants"]] == [10, 1]


def test_info_describes_an_upload(live_server):
    response = post(live_server, "/info", photo((1600, 1200), orientation=8))
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == {
        "format": "jpeg",
        "width": 1200,
        "height": 1600,
        "frames": 1,
        "animated": False,
        "has_alpha": False,
    }
    assert set(body["placeholder"]) == {"color", "blurhash", "thumbhash", "data_uri"}
    assert body["placeholder"]["color"].startswith("#") and len(body["placeholder"]["color"]) == 7
    assert len(body["placeholder"]["blurhash"]) == 28  # 4 x 3 components
    assert base64.b64decode(body["placeholder"]["thumbhash"])


ERRORS = [
    ({}, 400, "invalid_variants"),
    ({"variants": "not json"}, 400, "invalid_variants"),
    ({"variants": []}, 400, "invalid_variants"),
    ({"variants": {"name": "a"}}, 400, "invalid_variants"),
    ({"variants": ["w320"]}, 400, "invalid_variants"),
    ({"variants": [{"width": 320}]}, 400, "invalid_variants"),
    ({"variants": [{"name": "bad name"}]}, 400, "invalid_variants"),
    ({"variants": [{"name": "a"}, {"name": "a"}]}, 400, "invalid_variants"),
    ({"variants": [{"name": f"v{i}"} for i in range(Settings().max_variants + 1)]}, 400, "too_many_variants"),
    ({"variants": [{"name": "hero-wide", "width": 0}]}, 400, "invalid_width"),
    ({"variants": [{"name": "hero-wide", "format": "gif"}]}, 400, "invalid_format"),
    ({"variants": [{"name": "a"}], "quality": "0"}, 400, "invalid_quality"),
]


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    ERRORS,
    ids=[f"{code}-{index}" for index, (_f, _s, code) in enumerate(ERRORS)],
)
def test_variants_errors_over_http(live_server, fields, status, code):
    message = assert_json_error(post(live_server, "/variants", images.jpeg(), **fields), status, code)
    if code == "invalid_width":
        assert message.startswith("variant 'hero-wide': width must be")


@pytest.mark.parametrize("route", ["/variants", "/info"])
def test_upload_errors_are_the_same_as_convert(live_server, route):
    fields = {"variants": [{"name": "a"}]} if route == "/variants" else {}
    assert_json_error(post(live_server, route, images.jpeg(), headers={}, **fields), 401, "unauthorized")
    assert_json_error(post(live_server, route, b"plain text", **fields), 415, "unsupported_format")
    assert_json_error(
        post(live_server, route, images.jpeg((300, 300))[:400], **fields), 422, "undecodable_image"
    )
    assert_json_error(post(live_server, route, b"", **fields), 400, "empty_file")
    no_file = requests.post(
        f"{live_server.url}{route}", headers=live_server.headers(), files={"x": ("a", b"1")}, timeout=10
    )
    assert_json_error(no_file, 400, "missing_file")
    not_multipart = requests.post(
        f"{live_server.url}{route}", headers=live_server.headers(), data=b"raw", timeout=10
    )
    assert_json_error(not_multipart, 400, "not_multipart")


@pytest.mark.parametrize(
    ("item", "count", "code", "fragment"),
    [
        ({"width": 4096, "enlarge": True}, 16, "image_too_large", "MAX_DECODE_MB"),
        (
            {"width": 2400, "enlarge": True, "format": "avif", "lossless": True},
            8,
            "output_too_large",
            "8 renditions",
        ),
    ],
    ids=["memory", "encode-time"],
)
def test_the_summed_budgets_refuse_a_set_each_item_of_which_fits(live_server, item, count, code, fragment):
    one = post(live_server, "/variants", images.jpeg(), variants=[{"name": "one", **item}])
    assert one.status_code == 200, one.text
    wanted = [{"name": f"v{index}", **item} for index in range(count)]
    message = assert_json_error(post(live_server, "/variants", images.jpeg(), variants=wanted), 422, code)
    assert fragment in message


@pytest.fixture
def opened(monkeypatch):
    """Record every time the pipeline opens the upload."""
    from imgopt.imaging import pipeline

    calls = []
    real = pipeline.open_image

    def recording(data):
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(pipeline, "open_image", recording)
    return calls


@pytest.mark.parametrize("fields", [fields for fields, _status, _code in ERRORS])
def test_nothing_is_decoded_before_the_request_is_valid(opened, fields):
    client = create_app(Settings(api_token=TOKEN)).test_client()
    form = {key: value if isinstance(value, str) else json.dumps(value) for key, value in fields.items()}
    form["file"] = (io.BytesIO(images.jpeg()), "a.jpg")
    response = client.post("/variants", data=form, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400
    assert opened == []


def test_the_recording_fixture_sees_a_valid_request(opened):
    client = create_app(Settings(api_token=TOKEN)).test_client()
    form = {"variants": json.dumps([{"name": "a"}]), "file": (io.BytesIO(images.jpeg()), "a.jpg")}
    assert (
        client.post("/variants", data=form, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    )
    assert opened
