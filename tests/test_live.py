"""The real service: gunicorn started from gunicorn.conf.py, spoken to over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time

import pytest
import requests
from PIL import Image

from testing import images
from testing.server import free_port, run_gunicorn_to_exit, server_environment

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = pytest.mark.live

CURL = shutil.which("curl")


def post(server, data, headers=None, **fields):
    return requests.post(
        f"{server.url}/convert",
        headers=server.headers() if headers is None else headers,
        files={"file": ("upload.bin", data)},
        data=fields,
        timeout=60,
    )


@pytest.mark.parametrize(("fmt", "media_type"), [("webp", "image/webp"), ("avif", "image/avif")])
def test_converts_over_http(live_server, fmt, media_type):
    response = post(live_server, images.jpeg((320, 240)), format=fmt)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == media_type
    assert int(response.headers["Content-Length"]) == len(response.content)
    decoded = images.open_bytes(response.content)
    assert decoded.format == fmt.upper()
    assert decoded.size == (320, 240)


@pytest.mark.parametrize(
    ("fields", "size"),
    [({"width": 160}, (160, 120)), ({"height": 60}, (80, 60)), ({"width": 100, "height": 100}, (100, 100))],
)
def test_resizes_over_http(live_server, fields, size):
    response = post(live_server, images.jpeg((320, 240)), **fields)
    assert response.status_code == 200
    assert (int(response.headers["X-Image-Width"]), int(response.headers["X-Image-Height"])) == size
    assert images.open_bytes(response.content).size == size


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}])
def test_auth_failures_over_http(live_server, headers):
    response = post(live_server, images.jpeg(), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_camera_original_of_30_megabytes_is_accepted(live_server):
    # A 45 MP full-frame camera JPEG is 20-30 MB: the default MAX_UPLOAD_MB (40) takes it.
    data = images.encode(Image.effect_noise((6000, 4500), 120).convert("RGB"), "JPEG", quality=97)
    assert 30 * 1024 * 1024 < len(data) < 40 * 1024 * 1024 - 1024
    response = post(live_server, data, width=400)
    assert response.status_code == 200, response.text
    assert response.headers["X-Image-Width"] == "400"


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
@pytest.mark.parametrize("expect", ["Expect: 100-continue", "Expect:"], ids=["with-expect", "without-expect"])
def test_oversized_upload_gets_413_through_curl(live_server, tmp_path, expect):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(41 * 1024 * 1024))
    completed = subprocess.run(
        [
            CURL, "--silent", "--show-error", "--max-time", "30",
            "--header", f"Authorization: Bearer {live_server.token}",
            "--header", expect,
            "--form", f"file=@{big}",
            "--write-out", "\n%{http_code}",
            f"{live_server.url}/convert",
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    body, status = completed.stdout.rsplit("\n", 1)
    assert status == "413"
    assert json.loads(body)["error"]["code"] == "payload_too_large"


def test_health_and_ready_over_http(live_server):
    health = requests.get(f"{live_server.url}/health", timeout=5)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert requests.get(f"{live_server.url}/ready", timeout=5).json() == {"ready": True}


def test_errors_over_http_are_json(live_server):
    assert post(live_server, b"not an image").json()["error"]["code"] == "unsupported_format"
    assert requests.get(f"{live_server.url}/missing", timeout=5).json()["error"]["code"] == "not_found"


def start_and_fail(tmp_path, **overrides: str) -> subprocess.CompletedProcess:
    env = server_environment(free_port(), **overrides)
    if overrides.get("API_TOKEN") is None:
        env.pop("API_TOKEN")
    return run_gunicorn_to_exit(tmp_path, env)


@pytest.mark.parametrize("token", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_refuses_to_start_without_api_token(tmp_path, token):
    overrides = {} if token is None else {"API_TOKEN": token}
    completed = start_and_fail(tmp_path, **overrides)
    assert completed.returncode != 0
    assert "API_TOKEN" in completed.stderr + completed.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORT", "abc"), ("MAX_UPLOAD_MB", "-1"), ("AVIF_CODEC", "foo"), ("WEBP_METHOD", "9")],
)
def test_refuses_to_start_with_a_malformed_setting(tmp_path, variable, value):
    completed = start_and_fail(tmp_path, API_TOKEN="t", **{variable: value})
    assert completed.returncode != 0
    assert variable in completed.stderr + completed.stdout


def test_health_responder_reports_the_master_and_its_workers(live_server):
    response = requests.get(live_server.health_url, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["master_pid"] == live_server.process.pid
    assert body["workers_expected"] == 2
    assert body["workers_alive"] == 2
    assert len(body["worker_heartbeat_age_seconds"]) == 2


def test_health_responder_answers_while_every_worker_is_busy(live_server):
    noise = Image.merge("RGB", [Image.effect_noise((1600, 1200), 50) for _ in range(3)])
    data = images.encode(noise, "JPEG", quality=90)
    results: list[int] = []

    def convert() -> None:
        results.append(post(live_server, data, format="avif").status_code)

    busy = [threading.Thread(target=convert) for _ in range(3)]
    for thread in busy:
        thread.start()
    time.sleep(0.3)  # both workers have taken a request
    probe = requests.get(live_server.health_url, timeout=5)
    still_converting = len(results) < 3
    for thread in busy:
        thread.join()
    assert probe.status_code == 200
    assert still_converting, "the probe must have been answered while conversions were in flight"
    assert results == [200, 200, 200]


def test_health_responder_serves_only_health(live_server):
    response = requests.get(live_server.health_url.replace("/health", "/convert"), timeout=5)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("fields", "code", "fragment"),
    [
        ({"crop": "0,0,700,100"}, "invalid_crop", "480x640 upright"),  # the stored JPEG is 640x480, EXIF 6
        ({"crop": "0,0,480,640"}, None, None),
        ({"crop": "1;2;3;4"}, "invalid_crop", "x,y,width,height"),
        ({"gravity": "middle"}, "invalid_gravity", "smart"),
        ({"focus": "2,2"}, "invalid_focus", "between 0 and 1"),
        ({"width": "100", "height": "100", "fit": "cover", "gravity": "smart"}, None, None),
        (
            {"width": "100", "height": "100", "fit": "cover", "focus": "0.1,0.9", "crop": "10,10,200,300"},
            None,
            None,
        ),
    ],
)
def test_framing_fields_over_http(live_server, fields, code, fragment):
    response = post(live_server, images.jpeg((640, 480), orientation=6), **fields)
    if code is None:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert fragment in error["message"]


def test_a_bad_crop_in_a_rendition_names_it(live_server):
    response = requests.post(
        f"{live_server.url}/variants",
        headers=live_server.headers(),
        files={"file": ("a", images.jpeg((64, 48)))},
        data={
            "variants": json.dumps(
                [{"name": "ok", "crop": [0, 0, 64, 48]}, {"name": "card", "crop": [0, 0, 65, 48]}]
            )
        },
        timeout=30,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_crop"
    assert error["message"].startswith(
        "variant 'card': crop 0,0,65,48 does not fit the image, which is 64x48"
    )
