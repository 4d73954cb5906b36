"""The service as Laravel calls it: tests/laravel/convert.php drives ImgoptClient (the class in
docs/laravel.md) through Laravel's own HTTP client against the live gunicorn."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import images

PHP = shutil.which("php")
SCRIPT = Path(__file__).parent / "laravel" / "convert.php"
pytestmark = pytest.mark.skipif(PHP is None, reason="php is not installed (.ci/run installs php-cli)")


def laravel(server, data: bytes, tmp_path: Path, token: str | None = None, **options) -> dict:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(data)
    completed = subprocess.run(
        [PHP, str(SCRIPT), server.url, token or server.token, str(upload), json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(completed.stdout)


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [("webp", "image/webp", b"WEBP"), ("avif", "image/avif", b"ftypavif")],
)
def test_laravel_converts_a_jpeg(live_server, tmp_path, fmt, content_type, magic):
    result = laravel(live_server, images.jpeg((640, 480)), tmp_path, format=fmt)
    assert result["ok"], result
    assert result["content_type"] == content_type
    assert magic.hex() in result["magic"]
    assert (result["width"], result["height"]) == (640, 480)
    assert result["request_id"].startswith("laravel-test-")


def test_laravel_resizes_and_reads_the_headers(live_server, tmp_path):
    result = laravel(live_server, images.jpeg((640, 480)), tmp_path, width=320, fit="inside", height=320)
    assert result["ok"], result
    assert (result["width"], result["height"]) == (320, 240)


def test_laravel_sees_401_for_a_wrong_token(live_server, tmp_path):
    result = laravel(live_server, images.jpeg(), tmp_path, token="not-the-token")
    assert result == {**result, "ok": False, "status": 401, "code": "unauthorized", "permanent": True}


def test_laravel_sees_422_with_its_code(live_server, tmp_path):
    result = laravel(live_server, images.jpeg((300, 300))[:500], tmp_path)
    assert result["status"] == 422
    assert result["code"] == "undecodable_image"
    assert result["request_id"].startswith("laravel-test-")


def test_laravel_sees_413_for_an_11_mb_upload(live_server, tmp_path):
    result = laravel(live_server, os.urandom(11 * 1024 * 1024), tmp_path)
    assert result["status"] == 413, result
    assert result["code"] == "payload_too_large"


def test_laravel_sees_400_for_a_bad_field(live_server, tmp_path):
    result = laravel(live_server, images.jpeg(), tmp_path, width=0)
    assert (result["status"], result["code"]) == (400, "invalid_width")
