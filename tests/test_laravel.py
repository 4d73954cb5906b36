"""The service as Laravel calls it: tests/laravel/convert.php and variants.php drive the package's Client
(clients/laravel) through Laravel's own HTTP client against the live gunicorn, with no application around
it (tests/test_laravel_package.py runs it inside one)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from testing import images

PHP = shutil.which("php")
SCRIPT = Path(__file__).parent / "laravel" / "convert.php"
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(PHP is None, reason="php is not installed (.ci/run installs php-cli)"),
]


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


def test_laravel_sees_413_for_a_41_mb_upload(live_server, tmp_path):
    result = laravel(live_server, os.urandom(41 * 1024 * 1024), tmp_path)
    assert result["status"] == 413, result
    assert result["code"] == "payload_too_large"


def test_laravel_sees_400_for_a_bad_field(live_server, tmp_path):
    result = laravel(live_server, images.jpeg(), tmp_path, width=0)
    assert (result["status"], result["code"]) == (400, "invalid_width")


SET_SCRIPT = Path(__file__).parent / "laravel" / "variants.php"


def laravel_set(server, data: bytes, tmp_path: Path, variants: dict, defaults: dict | None = None) -> dict:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(data)
    completed = subprocess.run(
        [
            PHP,
            str(SET_SCRIPT),
            server.url,
            server.token,
            str(upload),
            json.dumps(variants),
            json.dumps(defaults or {}),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(completed.stdout)


def test_laravel_gets_a_rendition_set_that_matches_convert(live_server, tmp_path):
    data = images.jpeg((1200, 900), orientation=6)
    variants = {
        "webp-320": {"width": 320},
        "avif-320": {"width": 320, "format": "avif"},
        "square": {"width": 100, "height": 100, "fit": "cover", "enlarge": False},
    }
    result = laravel_set(live_server, data, tmp_path, variants, {"quality": 70})
    assert result["ok"], result
    info = result["info"]
    assert (info["format"], info["width"], info["height"], info["has_alpha"]) == ("jpeg", 900, 1200, False)
    assert info["blurhash"] and info["thumbhash"] and info["color"].startswith("#")
    assert info["data_uri"].startswith("data:image/webp;base64,")
    assert info["request_id"] == "laravel-set"
    assert {key: value for key, value in result["info_alone"].items() if key != "request_id"} == {
        key: value for key, value in info.items() if key != "request_id"
    }
    assert [item["name"] for item in result["renditions"]] == list(variants)
    for item in result["renditions"]:
        fields = {key: str(value).lower() for key, value in variants[item["name"]].items()}
        single = requests.post(
            f"{live_server.url}/convert",
            headers=live_server.headers(),
            files={"file": ("upload", data)},
            data={"quality": "70", **fields},
            timeout=60,
        )
        assert item["sha256"] == hashlib.sha256(single.content).hexdigest(), item["name"]
        assert (item["width"], item["height"]) == (
            int(single.headers["X-Image-Width"]),
            int(single.headers["X-Image-Height"]),
        )
        assert item["content_type"] == single.headers["Content-Type"]


def test_laravel_sees_invalid_variants_as_a_permanent_error(live_server, tmp_path):
    result = laravel_set(live_server, images.jpeg(), tmp_path, {"hero-wide": {"width": 0}})
    assert (result["status"], result["code"], result["permanent"]) == (400, "invalid_width", True)
    assert result["message"].startswith("variant 'hero-wide'")


def test_laravel_sends_crop_and_focus_as_lists(live_server, tmp_path):
    data = images.jpeg((640, 480))
    result = laravel(live_server, data, tmp_path, crop=[100, 50, 300, 200], width=150)
    assert result["ok"], result
    assert (result["width"], result["height"]) == (150, 100)
    covered = laravel(live_server, data, tmp_path, width=100, height=100, fit="cover", focus=[0.9, 0.1])
    assert (covered["width"], covered["height"]) == (100, 100)
    variants = {
        "card": {"width": 80, "height": 80, "fit": "cover", "gravity": "smart"},
        "cut": {"crop": [0, 0, 64, 48]},
    }
    result = laravel_set(live_server, data, tmp_path, variants)
    assert [(item["name"], item["width"], item["height"]) for item in result["renditions"]] == [
        ("card", 80, 80),
        ("cut", 64, 48),
    ]


def test_laravel_asks_for_auto_quality_and_auto_format(live_server, tmp_path):
    data = images.encode(images.textured((480, 360)), "JPEG", quality=92)
    result = laravel(live_server, data, tmp_path, format="auto", target=80)
    assert result["ok"], result
    assert result["content_type"] in ("image/webp", "image/avif")
    assert 1 <= result["quality"] <= 100
    assert result["score"] >= 80
    fixed = laravel(live_server, data, tmp_path, format="webp", quality=70)
    assert (fixed["quality"], fixed["score"]) == (70, None)
    lossless = laravel(live_server, data, tmp_path, format="png")
    assert (lossless["quality"], lossless["score"]) == (None, None)
    refused = laravel(live_server, data, tmp_path, format="png", quality="auto")
    assert (refused["status"], refused["code"], refused["permanent"]) == (400, "invalid_quality", True)
    variants = {"thumb": {"width": 160, "quality": 60}, "hero": {"quality": "auto", "format": "avif"}}
    result = laravel_set(live_server, data, tmp_path, variants)
    thumb, hero = result["renditions"]
    assert (thumb["quality"], thumb["score"]) == (60, None)
    assert hero["format"] == "avif" and hero["score"] >= 75 and 1 <= hero["quality"] <= 100


MEDIALIBRARY_CASES = {
    "thumb": ("jpg", [["optimize"], ["format", "jpg"], ["fit", "crop", 300, 300]]),
    "preview": ("webp", [["format", "webp"], ["width", 1200, ["preserveAspectRatio"]], ["quality", 70]]),
    "card": ("avif", [["format", "avif"], ["focalCropAndResize", 400, 200, 30, 60]]),
    "padded": ("png", [["format", "png"], ["fit", "fill", 500, 500, False, "#ff0000"]]),
    "cropped-then-resized": ("jpg", [["manualCrop", 800, 800, 100, 200], ["width", 200]]),
    "responsive": ("webp", [["optimize"], ["width", 588, ["preserveAspectRatio"]], ["quality", 90]]),
}


def test_the_medialibrary_image_makes_each_conversion_at_the_size_spatie_image_gives(live_server, tmp_path):
    upload = tmp_path / "upload.jpg"
    upload.write_bytes(images.photo((1600, 1200), orientation=6))  # 1200x1600 upright
    script = Path(__file__).parent / "laravel" / "recorded.php"
    completed = subprocess.run(
        [
            PHP,
            str(script),
            live_server.url,
            live_server.token,
            str(upload),
            json.dumps(MEDIALIBRARY_CASES),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    results = json.loads(completed.stdout)
    formats = {"jpg": "JPEG", "webp": "WEBP", "avif": "AVIF", "png": "PNG"}
    for name, (extension, _calls) in MEDIALIBRARY_CASES.items():
        assert results[name]["ok"], results[name]
        made = images.open_bytes(Path(results[name]["path"]).read_bytes())
        assert made.format == formats[extension], name
        assert list(made.size) == results[name]["predicted"], name
    assert results["thumb"]["predicted"] == [300, 300]
    assert results["preview"]["predicted"] == [1200, 1600]  # upright: spatie/image turns it too
    assert results["padded"]["predicted"] == [500, 500]
    red = images.open_bytes(Path(results["padded"]["path"]).read_bytes()).convert("RGB").getpixel((2, 250))
    assert red == (255, 0, 0)  # the padding beside the 375x500 image
