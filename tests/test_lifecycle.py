"""A worker's life, live: draining on SIGTERM, stalled and trickling uploads, memory given back, workers
retired when too large, and tokens rotated without a 401 window."""

from __future__ import annotations

import io
import json
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image, ImageDraw

from testing import images
from testing.images import photo
from testing.server import TOKEN, memory_of, start_gunicorn, stop_gunicorn

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = pytest.mark.live


def post(server, data: bytes, timeout: float = 60, headers=None, **fields) -> requests.Response:
    return requests.post(
        f"{server.url}/convert",
        headers=server.headers() if headers is None else headers,
        files={"file": ("upload", data)},
        data=fields,
        timeout=timeout,
    )


def log_entries(server) -> list[dict]:
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


# --- SIGTERM ----------------------------------------------------------------------------------------------


def test_sigterm_answers_every_request_in_flight_or_queued(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="2")
    noise = Image.merge("RGB", [Image.effect_noise((2400, 1800), 60) for _ in range(3)])
    slow = images.encode(noise, "JPEG", quality=90)  # to lossless AVIF: about two seconds each here
    try:
        with ThreadPoolExecutor(8) as pool:
            conversions = [
                pool.submit(post, server, slow, 60, None, format="avif", lossless="true") for _ in range(6)
            ]
            time.sleep(0.5)  # two requests in flight, four in the listen backlog
            readiness = pool.submit(requests.get, f"{server.url}/ready", timeout=60)
            time.sleep(0.1)
            started = time.monotonic()
            pending = sum(not future.done() for future in conversions)
            server.process.send_signal(signal.SIGTERM)
            statuses = [future.result().status_code for future in conversions]
            ready = readiness.result()
            exit_code = server.process.wait(timeout=40)
            elapsed = time.monotonic() - started
    finally:
        if server.process.poll() is None:
            stop_gunicorn(server)
    assert statuses == [200] * 6
    assert exit_code == 0
    assert elapsed < 30  # gunicorn's graceful_timeout
    assert ready.status_code == 503  # a draining worker still answers, but not as ready
    assert ready.json()["ready"] is False
    assert pending >= 3, "too few requests were waiting for the test to mean anything"
    drained = [entry for entry in log_entries(server) if "drained" in entry]
    assert sum(entry["drained"] for entry in drained) >= pending - 2  # all but the two in flight were queued


# --- stalled, trickling and slow clients ------------------------------------------------------------------


def request_head(server, length: int) -> bytes:
    host = server.url.removeprefix("http://")
    return (
        f"POST /convert HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {server.token}\r\n"
        f"Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def connect(server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    return status, body


@pytest.fixture
def impatient_server(tmp_path):
    """Two workers that wait 2 s for a silent client and 4 s (TIMEOUT/3) for a whole body."""
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="2", BODY_READ_TIMEOUT="2", TIMEOUT="12")
    yield server
    stop_gunicorn(server)


def test_stalled_uploads_get_408_and_an_ordinary_request_still_gets_through(impatient_server):
    server = impatient_server
    stalled = []
    for _ in range(2):  # one per worker
        sock = connect(server)
        sock.sendall(request_head(server, 100_000) + b"--XyZ\r\n" + b"x" * 1024)
        stalled.append(sock)
    time.sleep(0.3)
    started = time.monotonic()
    ordinary = post(server, images.jpeg((320, 240)), timeout=30)
    waited = time.monotonic() - started
    answers = [read_response(sock) for sock in stalled]
    assert ordinary.status_code == 200
    assert waited < 2 + 2  # BODY_READ_TIMEOUT, plus the ordinary request's own time and slack
    for status, body in answers:
        assert status == 408
        assert json.loads(body)["error"]["code"] == "request_timeout"
    assert "WORKER TIMEOUT" not in server.log()
    assert server.process.poll() is None


def test_a_trickling_upload_gets_408_within_the_whole_body_limit(impatient_server):
    server = impatient_server
    sock = connect(server)
    sock.sendall(request_head(server, 100_000))
    started = time.monotonic()
    answer: list[tuple[int, bytes]] = []
    reader = threading.Thread(target=lambda: answer.append(read_response(sock)))
    reader.start()
    while reader.is_alive() and time.monotonic() - started < 10:
        try:
            sock.sendall(b"x")  # one byte a second: never silent for BODY_READ_TIMEOUT
        except OSError:
            break
        time.sleep(1)
    reader.join(timeout=10)
    assert answer and answer[0][0] == 408
    assert 3.5 < time.monotonic() - started < 7  # TIMEOUT/3 = 4 s
    assert "WORKER TIMEOUT" not in server.log()


def test_a_client_that_stalls_in_its_request_head_frees_the_worker(impatient_server):
    server = impatient_server
    heads = []
    for _ in range(2):
        sock = connect(server)
        sock.sendall(b"POST /convert HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        heads.append(sock)
    time.sleep(0.3)
    started = time.monotonic()
    assert post(server, images.jpeg(), timeout=30).status_code == 200
    assert time.monotonic() - started < 2 + 2
    assert "WORKER TIMEOUT" not in server.log()
    for sock in heads:
        sock.close()


# --- memory -----------------------------------------------------------------------------------------------


def transparent_photo() -> bytes:
    """A 2048x1536 photo-like PNG with a transparent border: without TRIM_ABOVE_MB a worker keeps ~55 MiB
    more after five conversions of it (measured), with it ~1."""
    image = Image.open(io.BytesIO(photo((2048, 1536)))).convert("RGBA")
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).ellipse((200, 100, 1850, 1400), fill=255)
    image.putalpha(mask)
    return images.encode(image, "PNG")


def settled_rss(server, pid: int) -> float:
    time.sleep(0.5)  # the worker gives memory back after it has answered
    return memory_of(pid)["VmRSS"]


def test_a_worker_gives_memory_back_after_a_large_request(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="1", MAX_REQUESTS="0")
    try:
        pid = server.worker_pids()[0]
        assert post(server, images.jpeg((64, 48)), format="avif").status_code == 200
        baseline = settled_rss(server, pid)
        for fmt in ("webp", "avif", "webp", "avif", "webp"):
            assert post(server, transparent_photo(), format=fmt, width=1200).status_code == 200
        after = settled_rss(server, pid)
        assert server.worker_pids() == [pid]
    finally:
        stop_gunicorn(server)
    assert after - baseline <= 48, (baseline, after)


def test_a_worker_over_max_worker_rss_is_restarted_after_answering(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="1", MAX_WORKER_RSS_MB="1")
    try:
        first = server.worker_pids()
        assert post(server, images.jpeg()).status_code == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and server.worker_pids() == first:
            time.sleep(0.1)
        assert server.worker_pids() != first
        assert post(server, images.jpeg()).status_code == 200  # the fresh worker serves
    finally:
        stop_gunicorn(server)
    retired = [entry for entry in log_entries(server) if entry.get("max_worker_rss_mb") == 1]
    assert retired and retired[0]["rss_mib"] > 1
    assert "MAX_WORKER_RSS_MB" in retired[0]["message"]


# --- token rotation ---------------------------------------------------------------------------------------

OLD, NEW = TOKEN, "rotated-token-fedcba9876543210"


def test_both_tokens_work_during_a_rotation_and_the_log_names_only_the_position(tmp_path):
    server = start_gunicorn(tmp_path, API_TOKEN=f"{OLD}, {NEW}")
    try:
        for index, token in enumerate((OLD, NEW)):
            response = post(
                server,
                images.jpeg(),
                headers={"Authorization": f"Bearer {token}", "X-Request-Id": f"rot-{index}"},
            )
            assert response.status_code == 200
        assert (
            post(server, images.jpeg(), headers={"Authorization": f"Bearer {OLD},{NEW}"}).status_code == 401
        )
        assert post(server, images.jpeg(), headers={"Authorization": "Bearer third"}).status_code == 401
    finally:
        stop_gunicorn(server)
    lines = {entry.get("request_id"): entry for entry in log_entries(server)}
    assert lines["rot-0"]["token_index"] == 0
    assert lines["rot-1"]["token_index"] == 1
    assert OLD not in server.log() and NEW not in server.log()
