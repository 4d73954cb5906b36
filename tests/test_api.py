"""Every field and error of POST /convert, /health and /ready through Flask's test client."""

from __future__ import annotations

import io
import re

import pytest

from imgopt import create_app
from imgopt.config import Settings
from testing import images
from testing.server import TOKEN


def upload(client, headers, data=None, **fields):
    form = {key: str(value) for key, value in fields.items()}
    form["file"] = (io.BytesIO(images.jpeg() if data is None else data), "photo.jpg")
    return client.post("/convert", data=form, headers=headers, content_type="multipart/form-data")


def assert_json_error(response, status, code):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]


def test_convert_returns_webp_with_headers(client, auth):
    response = upload(client, auth)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/webp"
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert response.headers["X-Image-Width"] == "64"
    assert response.headers["X-Image-Height"] == "48"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


@pytest.mark.parametrize(
    ("fields", "content_type", "size"),
    [
        ({"format": "webp"}, "image/webp", (64, 48)),
        ({"format": "AVIF"}, "image/avif", (64, 48)),
        ({"format": "Webp", "quality": "1"}, "image/webp", (64, 48)),
        ({"quality": "100"}, "image/webp", (64, 48)),
        ({"width": "32"}, "image/webp", (32, 24)),
        ({"height": "24"}, "image/webp", (32, 24)),
        ({"width": "10", "height": "40"}, "image/webp", (10, 40)),
        ({"unknown": "ignored", "width": "16"}, "image/webp", (16, 12)),
    ],
)
def test_valid_fields_are_honoured(client, auth, fields, content_type, size):
    response = upload(client, auth, **fields)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Content-Type"] == content_type
    assert (int(response.headers["X-Image-Width"]), int(response.headers["X-Image-Height"])) == size
    assert images.open_bytes(response.data).size == size


@pytest.mark.parametrize(
    ("fields", "code", "named"),
    [
        ({"format": "gif"}, "invalid_format", "format"),
        ({"quality": "0"}, "invalid_quality", "1 to 100"),
        ({"quality": "101"}, "invalid_quality", "1 to 100"),
        ({"quality": "high"}, "invalid_quality", "quality"),
        ({"quality": "80.5"}, "invalid_quality", "quality"),
        ({"width": "0"}, "invalid_width", "1 to 4096"),
        ({"width": "4097"}, "invalid_width", "1 to 4096"),
        ({"width": "-5"}, "invalid_width", "width"),
        ({"height": "abc"}, "invalid_height", "1 to 4096"),
        ({"height": "99999999999999999999"}, "invalid_height", "height"),
        ({"width": ""}, "invalid_width", "1 to 4096"),
        ({"format": ""}, "invalid_format", "webp"),
        ({"fit": "stretch"}, "invalid_fit", "fill, inside, cover, contain"),
        ({"enlarge": "maybe"}, "invalid_enlarge", "true or false"),
        ({"lossless": ""}, "invalid_lossless", "true or false"),
        ({"animated": "2"}, "invalid_animated", "true or false"),
        ({"crop": "1,2,3"}, "invalid_crop", "x,y,width,height"),
        ({"crop": "0,0,0,5"}, "invalid_crop", "width and height >= 1"),
        ({"crop": "-1,0,5,5"}, "invalid_crop", "crop"),
        ({"crop": "0,0,65,10"}, "invalid_crop", "64x48 upright"),
        ({"crop": "60,40,5,9"}, "invalid_crop", "64x48 upright"),
        ({"gravity": "up"}, "invalid_gravity", "center, north"),
        ({"focus": "0.5"}, "invalid_focus", "between 0 and 1"),
        ({"focus": "1.2,0.5"}, "invalid_focus", "between 0 and 1"),
        ({"focus": "-0.1,0.5"}, "invalid_focus", "focus"),
    ],
)
def test_bad_fields_get_400_naming_the_field(client, auth, fields, code, named):
    response = upload(client, auth, **fields)
    assert_json_error(response, 400, code)
    assert named in response.get_json()["error"]["message"]


def test_not_multipart_is_400(client, auth):
    response = client.post("/convert", data=images.jpeg(), headers=auth, content_type="image/jpeg")
    assert_json_error(response, 400, "not_multipart")


def test_no_body_is_400(client, auth):
    assert_json_error(client.post("/convert", headers=auth), 400, "not_multipart")


def test_missing_file_is_400(client, auth):
    response = client.post(
        "/convert", data={"format": "webp"}, headers=auth, content_type="multipart/form-data"
    )
    assert_json_error(response, 400, "missing_file")


def test_file_sent_as_text_field_is_400(client, auth):
    response = client.post(
        "/convert", data={"file": "not a file part"}, headers=auth, content_type="multipart/form-data"
    )
    assert_json_error(response, 400, "missing_file")


def test_empty_file_is_400(client, auth):
    assert_json_error(upload(client, auth, data=b""), 400, "empty_file")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer wrong-token",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN.upper()}",
        f"Token {TOKEN}",
    ],
    ids=["absent", "empty", "scheme-only", "blank", "basic", "wrong", "prefix", "suffix", "case", "scheme"],
)
def test_bad_tokens_get_401_with_www_authenticate(client, header):
    headers = {} if header is None else {"Authorization": header}
    response = upload(client, headers)
    assert_json_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def body_reads(monkeypatch):
    """Record every call of read_body, the only place the request body is read."""
    from imgopt.http import uploads

    calls = []
    real = uploads.read_body

    def recording(*args, **kwargs):
        calls.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(uploads, "read_body", recording)
    return calls


def test_token_is_checked_before_the_body_is_read(client, body_reads):
    response = upload(client, {"Authorization": "Bearer wrong"})
    assert_json_error(response, 401, "unauthorized")
    assert body_reads == []


def test_the_body_is_read_once_the_token_is_right(client, auth, body_reads):
    assert upload(client, auth).status_code == 200
    assert body_reads == [True]


def test_bearer_scheme_is_case_insensitive(client):
    assert upload(client, {"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_unknown_route_is_404_json(client):
    assert_json_error(client.get("/nope"), 404, "not_found")


@pytest.mark.parametrize(("method", "path"), [("get", "/convert"), ("post", "/health"), ("delete", "/ready")])
def test_wrong_method_is_405_json(client, method, path):
    response = getattr(client, method)(path)
    assert_json_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"]


def test_body_over_the_limit_is_413(auth):
    app = create_app(Settings(api_token=TOKEN, max_upload_mb=1))
    response = upload(app.test_client(), auth, data=b"\0" * (1024 * 1024 + 1))
    assert_json_error(response, 413, "payload_too_large")
    assert "MAX_UPLOAD_MB" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "data",
    [b"plain text, not an image", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", b"%!PS-Adobe-3.0 EPSF-3.0\n"],
    ids=["text", "pdf", "eps"],
)
def test_not_an_image_is_415(client, auth, data):
    assert_json_error(upload(client, auth, data=data), 415, "unsupported_format")


def test_disallowed_image_format_is_415(client, auth):
    assert_json_error(
        upload(client, auth, data=images.encode(images.gradient(), "TGA")), 415, "unsupported_format"
    )


def test_filename_and_content_type_are_not_trusted(client, auth):
    form = {"file": (io.BytesIO(images.png()), "photo.gif", "image/gif")}
    response = client.post("/convert", data=form, headers=auth)
    assert response.status_code == 200


def test_truncated_image_is_422(client, auth):
    assert_json_error(upload(client, auth, data=images.jpeg((300, 300))[:600]), 422, "undecodable_image")


def test_image_over_max_source_pixels_is_422(auth):
    app = create_app(Settings(api_token=TOKEN, max_source_pixels=1000))
    response = upload(app.test_client(), auth, data=images.jpeg((100, 100)))
    assert_json_error(response, 422, "image_too_large")


def test_a_bug_becomes_a_logged_500_json(app, client, auth, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("imgopt.imaging.pipeline.convert", broken)
    response = upload(client, auth)
    assert_json_error(response, 500, "internal_error")
    assert "boom" not in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("offered", "echoed"),
    [("abc-123", True), ("req_2026.11:x", True), ("bad id with spaces", False), ("x" * 200, False)],
)
def test_request_id_is_echoed_only_when_sane(client, auth, offered, echoed):
    response = upload(client, {**auth, "X-Request-Id": offered})
    assert (response.headers["X-Request-Id"] == offered) is echoed


def test_health_needs_no_auth_and_reports_version(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert isinstance(body["uptime_seconds"], int)
    assert body["version"]


def test_ready_needs_no_auth(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json() == {"ready": True}


@pytest.mark.parametrize(
    ("header", "index"),
    [
        (f"Bearer {TOKEN}", 0),
        ("Bearer second-token-0123456789", 1),
        ("Bearer nope", None),
        (f"Bearer {TOKEN}x", None),
    ],
)
def test_any_listed_token_is_accepted_and_its_position_reported(header, index):
    from imgopt.errors import Unauthorized
    from imgopt.http.auth import check_token

    tokens = (TOKEN, "second-token-0123456789")
    if index is None:
        with pytest.raises(Unauthorized):
            check_token(header, tokens)
    else:
        assert check_token(header, tokens) == index
