"""docs/openapi.yaml describes the live service: responses validate, and schemathesis finds nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import schemathesis

from testing import images

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = pytest.mark.live

SPEC = Path(__file__).parent.parent / "docs" / "openapi.yaml"
SCHEMA = schemathesis.openapi.from_path(str(SPEC))


def convert(server, data: bytes = b"", headers=None, **fields) -> requests.Response:
    return requests.post(
        f"{server.url}/convert",
        headers=server.headers() if headers is None else headers,
        files={"file": ("upload", data or images.jpeg())},
        data=fields,
        timeout=30,
    )


CASES = {
    "webp": convert,
    "avif": lambda s: convert(s, format="avif", width=32),
    "jpeg": lambda s: convert(s, format="jpeg"),
    "png": lambda s: convert(s, format="png"),
    "auto": lambda s: convert(s, format="auto", target="80"),
    "auto-jpeg": lambda s: convert(s, format="jpeg", quality="auto"),
    "400": lambda s: convert(s, quality="0"),
    "400-target": lambda s: convert(s, quality="auto", target="99"),
    "401": lambda s: convert(s, headers={}),
    "413": lambda s: convert(s, os.urandom(11 * 1024 * 1024)),
    "415": lambda s: convert(s, b"not an image at all"),
    "422": lambda s: convert(s, images.jpeg((200, 200))[:300]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_convert_responses_match_the_spec(live_server, case):
    response = CASES[case](live_server)
    SCHEMA["/convert"]["POST"].validate_response(response)
    assert response.headers["X-Request-Id"]
    if response.status_code == 200:
        assert int(response.headers["X-Image-Width"]) >= 1
        assert int(response.headers["X-Image-Height"]) >= 1


def upload(server, route: str, data: bytes = b"", headers=None, **fields) -> requests.Response:
    return requests.post(
        f"{server.url}{route}",
        headers=server.headers() if headers is None else headers,
        files={"file": ("upload", data or images.jpeg())},
        data=fields,
        timeout=30,
    )


SET = '[{"name": "a", "width": 32}, {"name": "b", "format": "avif", "width": 16}]'
SET_CASES = {
    ("/variants", "200"): lambda s: upload(s, "/variants", variants=SET),
    ("/variants", "200-defaults"): lambda s: upload(s, "/variants", variants='[{"name": "x"}]', quality="60"),
    ("/variants", "200-auto"): lambda s: upload(s, "/variants", variants=SET, quality="auto"),
    ("/variants", "400"): lambda s: upload(s, "/variants", variants="[]"),
    ("/variants", "401"): lambda s: upload(s, "/variants", headers={}, variants=SET),
    ("/variants", "415"): lambda s: upload(s, "/variants", b"not an image", variants=SET),
    ("/variants", "422"): lambda s: upload(s, "/variants", images.jpeg((200, 200))[:300], variants=SET),
    ("/info", "200"): lambda s: upload(s, "/info"),
    ("/info", "200-rgba"): lambda s: upload(s, "/info", images.png((40, 30), "RGBA")),
    ("/info", "401"): lambda s: upload(s, "/info", headers={}),
    ("/info", "415"): lambda s: upload(s, "/info", b"not an image"),
}


@pytest.mark.parametrize(
    ("path", "case"), sorted(SET_CASES), ids=["-".join(key) for key in sorted(SET_CASES)]
)
def test_variants_and_info_responses_match_the_spec(live_server, path, case):
    response = SET_CASES[(path, case)](live_server)
    assert response.status_code == int(case[:3]), response.text
    SCHEMA[path]["POST"].validate_response(response)


@pytest.mark.parametrize(("path", "auth"), [("/health", False), ("/ready", False), ("/metrics", True)])
def test_other_routes_match_the_spec(live_server, path, auth):
    response = requests.get(
        f"{live_server.url}{path}", headers=live_server.headers() if auth else {}, timeout=5
    )
    assert response.status_code == 200
    SCHEMA[path]["GET"].validate_response(response)


def test_metrics_without_token_is_401_as_specified(live_server):
    response = requests.get(f"{live_server.url}/metrics", timeout=5)
    assert response.status_code == 401
    SCHEMA["/metrics"]["GET"].validate_response(response)


def test_the_validator_rejects_what_the_spec_does_not_allow(live_server):
    response = convert(live_server, b"not an image at all")
    response._content = b'{"error": {"message": "no code"}}'
    with pytest.raises(AssertionError):
        SCHEMA["/convert"]["POST"].validate_response(response)


@pytest.mark.skipif(
    shutil.which("schemathesis", path=str(Path(sys.executable).parent)) is None, reason="no CLI"
)
def test_schemathesis_finds_no_server_errors_or_violations(live_server, tmp_path):
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run", str(SPEC),
            "--url", live_server.url,
            "--header", f"Authorization: Bearer {live_server.token}",
            "--checks", "all",
            # Random bytes are never a valid image, so "valid" requests are rightly refused with 415.
            "--exclude-checks", "positive_data_acceptance",
            "--max-examples", "25",
            "--seed", "20261124",
            "--no-color",
            "--report", "junit",
            "--report-dir", str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )  # fmt: skip
    summary = completed.stdout[-3000:]
    print(summary)
    assert completed.returncode == 0, summary
