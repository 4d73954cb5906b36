"""Logs and metrics as operators see them: JSON lines, LOG_LEVEL honoured, metrics summed across workers."""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image

from imgopt.http.hooks import log_level_of
from testing import images
from testing.server import start_gunicorn, stop_gunicorn

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = pytest.mark.live


def convert(server, **fields):
    return requests.post(
        f"{server.url}/convert",
        headers=server.headers(),
        files={"file": ("a", images.jpeg())},
        data=fields,
        timeout=30,
    )


@pytest.mark.parametrize(("level", "request_lines_expected"), [("info", True), ("warning", False)])
def test_logs_are_json_lines_at_the_configured_level(tmp_path, level, request_lines_expected):
    server = start_gunicorn(tmp_path, LOG_LEVEL=level)
    try:
        for _ in range(3):
            assert convert(server).status_code == 200
        assert convert(server, quality="0").status_code == 400
    finally:
        stop_gunicorn(server)
    entries = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    requests_logged = [entry for entry in entries if entry["logger"] == "imgopt.request"]
    assert bool(requests_logged) is request_lines_expected
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    if request_lines_expected:
        assert any(entry["logger"] == "gunicorn.error" for entry in entries)
        ok = next(e for e in requests_logged if e["path"] == "/convert" and e["status"] == 200)
        for key in ("request_id", "method", "path", "duration_ms", "bytes_in", "bytes_out", "source_format",
                    "source_size", "output_format", "output_size", "pid"):  # fmt: skip
            assert key in ok, key
        assert any(entry.get("error_code") == "invalid_quality" for entry in requests_logged)
    else:
        assert all(entry["level"] in ("warning", "error", "critical") for entry in entries)


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def scrape(server) -> str:
    return requests.get(f"{server.url}/metrics", headers=server.headers(), timeout=5).text


def test_metrics_sum_requests_across_workers(live_server):
    noise = Image.merge("RGB", [Image.effect_noise((900, 600), 50) for _ in range(3)])
    data = images.encode(noise, "JPEG", quality=90)
    before = scrape(live_server)
    log_lines = len(live_server.log().splitlines())

    def convert_noise() -> int:
        return requests.post(
            f"{live_server.url}/convert",
            headers=live_server.headers(),
            files={"file": ("a", data)},
            data={"format": "avif", "width": "600"},
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda _: convert_noise(), range(8))) == [200] * 8
    after = scrape(live_server)
    pids = {
        match[1]
        for line in live_server.log().splitlines()[log_lines:]
        if (match := re.search(r'"path":"/convert".*"pid":(\d+)', line))
    }
    labels = {"route": "/convert", "status": "200", "format": "avif"}
    assert (
        metric(after, "imgopt_requests_total", **labels) - metric(before, "imgopt_requests_total", **labels)
        == 8
    )
    assert len(pids) == 2, "both workers served, and /metrics counted both"
    assert metric(after, "imgopt_request_duration_seconds_count", route="/convert") > 0
    assert metric(after, "imgopt_response_bytes_total", route="/convert") > 0


def test_rejections_are_counted_by_code(live_server):
    before = metric(scrape(live_server), "imgopt_rejections_total", code="unsupported_format")
    requests.post(
        f"{live_server.url}/convert",
        headers=live_server.headers(),
        files={"file": ("a", b"text")},
        timeout=10,
    )
    assert metric(scrape(live_server), "imgopt_rejections_total", code="unsupported_format") == before + 1


def test_metrics_are_public_only_when_configured(tmp_path):
    server = start_gunicorn(tmp_path, METRICS_PUBLIC="true")
    try:
        assert requests.get(f"{server.url}/metrics", timeout=5).status_code == 200
    finally:
        stop_gunicorn(server)


def test_a_set_is_logged_and_its_renditions_counted_by_format(live_server):
    before = scrape(live_server)
    lines_before = len(live_server.log().splitlines())
    variants = [
        {"name": "a", "width": 32},
        {"name": "b", "width": 16, "format": "avif"},
        {"name": "c", "width": 8},
    ]
    response = requests.post(
        f"{live_server.url}/variants",
        headers={**live_server.headers(), "X-Request-Id": "set-log-test"},
        files={"file": ("a", images.jpeg())},
        data={"variants": json.dumps(variants)},
        timeout=30,
    )
    assert response.status_code == 200
    assert convert(live_server, format="avif").status_code == 200
    after = scrape(live_server)
    assert (
        metric(after, "imgopt_outputs_total", route="/variants", format="webp")
        - metric(before, "imgopt_outputs_total", route="/variants", format="webp")
        == 2
    )
    assert (
        metric(after, "imgopt_outputs_total", route="/variants", format="avif")
        - metric(before, "imgopt_outputs_total", route="/variants", format="avif")
        == 1
    )
    assert (
        metric(after, "imgopt_outputs_total", route="/convert", format="avif")
        - metric(before, "imgopt_outputs_total", route="/convert", format="avif")
        == 1
    )
    entries = [
        json.loads(line) for line in live_server.log().splitlines()[lines_before:] if line.startswith("{")
    ]
    logged = next(entry for entry in entries if entry.get("request_id") == "set-log-test")
    sizes = [item["bytes"] for item in response.json()["variants"]]
    assert (logged["variants"], logged["output_bytes"], logged["outputs"]) == (
        3,
        sum(sizes),
        {"webp": 2, "avif": 1},
    )
    assert logged["bytes_out"] == len(response.content)


@pytest.mark.parametrize(
    ("status", "code", "level"),
    [(200, None, logging.INFO), (422, "image_too_large", logging.INFO), (499, "client_gone", logging.INFO),
     (503, "overloaded", logging.WARNING), (500, "internal_error", logging.ERROR)],
)  # fmt: skip
def test_a_request_line_is_an_error_only_when_the_service_failed(status, code, level):
    assert log_level_of(status, code) == level
