"""A worker's life, live: draining on SIGTERM, stalled and trickling uploads, memory given back, workers
retired when too large, and tokens rotated without a 401 window."""

from __future__ import annotations

import contextlib
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

from imgopt.server.worker import IDLE_SECONDS
from testing import images
from testing.http import multipart
from testing.images import photo
from testing.server import TOKEN, memory_of, start_gunicorn, stop_gunicorn
from testing.sockets import queued, taken, wait_until

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


def port(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


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
            wait_until(lambda: taken(port(server)) == 2 and queued(port(server)) == 4, "2 taken, 4 queued")
            readiness = pool.submit(requests.get, f"{server.url}/ready", timeout=60)
            wait_until(lambda: queued(port(server)) == 5, "the readiness probe queued too")
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
    """Two workers that give a request head 2 s, a silent upload 2 s and a whole body 4 s (TIMEOUT/3), and a
    response 2 s to be read."""
    server = start_gunicorn(
        tmp_path,
        WEB_CONCURRENCY="2",
        HEADER_READ_TIMEOUT="2",
        BODY_READ_TIMEOUT="2",
        SEND_TIMEOUT="2",
        TIMEOUT="12",
    )
    yield server
    stop_gunicorn(server)


# After answering, gunicorn lingers up to 2 s for the client to close (RFC 9112 9.6) before it closes the
# socket; a slow client that never closes holds its worker that much longer.
LINGER = 2


def answered_meanwhile(server, slow_clients: list[socket.socket]) -> float:
    """With every worker held by ``slow_clients``, the seconds an ordinary request waited for a worker, as
    the server measured it (its log line's queue_wait_ms): how long the slow clients held the workers."""
    wait_until(lambda: taken(port(server)) >= len(slow_clients), "the slow clients to hold every worker")
    request_id = f"ordinary-{time.monotonic_ns()}"
    response = post(
        server, images.jpeg((320, 240)), timeout=30, headers={**server.headers(), "X-Request-Id": request_id}
    )
    assert response.status_code == 200
    line = wait_until(lambda: log_line(server, request_id), "the ordinary request's log line")
    return line["queue_wait_ms"] / 1000


def log_line(server, request_id: str) -> dict | None:
    return next((entry for entry in log_entries(server) if entry.get("request_id") == request_id), None)


def assert_408_json(answer: tuple[int, bytes]) -> None:
    status, body = answer
    assert status == 408, body[:200]
    assert json.loads(body)["error"]["code"] == "request_timeout"


def test_stalled_uploads_get_408_and_an_ordinary_request_still_gets_through(impatient_server):
    server = impatient_server
    stalled = []
    for _ in range(2):  # one per worker
        sock = connect(server)
        sock.sendall(request_head(server, 100_000) + b"--XyZ\r\n" + b"x" * 1024)
        stalled.append(sock)
    waited = answered_meanwhile(server, stalled)
    answers = [read_response(sock) for sock in stalled]
    assert waited < 2 + LINGER + 1  # held for BODY_READ_TIMEOUT and the linger, not for TIMEOUT (12 s)
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
    assert time.monotonic() - started > 4  # TIMEOUT/3: never sooner; and never TIMEOUT's kill
    assert "WORKER TIMEOUT" not in server.log()


def test_a_client_that_stalls_in_its_request_head_gets_408_and_frees_the_worker(impatient_server):
    server = impatient_server
    heads = []
    for _ in range(2):
        sock = connect(server)
        sock.sendall(b"POST /convert HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        heads.append(sock)
    assert answered_meanwhile(server, heads) < 2 + LINGER + 1
    for sock in heads:
        assert_408_json(read_response(sock))
    assert "WORKER TIMEOUT" not in server.log()


def test_a_connection_that_sends_nothing_gets_408_within_the_head_deadline(impatient_server):
    server = impatient_server
    silent = [connect(server) for _ in range(2)]
    assert answered_meanwhile(server, silent) < 2 + LINGER + 1
    for sock in silent:
        assert_408_json(read_response(sock))
    assert "WORKER TIMEOUT" not in server.log()


def test_a_head_trickled_a_line_a_second_gets_408_at_the_head_deadline(impatient_server):
    server = impatient_server
    clients = [connect(server) for _ in range(2)]
    started = time.monotonic()
    answers: list[tuple[int, bytes]] = []
    readers = [threading.Thread(target=lambda s=sock: answers.append(read_response(s))) for sock in clients]
    for reader in readers:
        reader.start()
    for sock in clients:
        sock.sendall(b"POST /convert HTTP/1.1\r\n")
    for line in range(8):  # one header line a second never leaves a read waiting for BODY_READ_TIMEOUT
        if not any(reader.is_alive() for reader in readers):
            break
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.sendall(f"X-Line-{line}: {line}\r\n".encode())
        time.sleep(1)
    for reader in readers:
        reader.join(timeout=10)
    assert len(answers) == 2
    for answer in answers:
        assert_408_json(answer)
    assert time.monotonic() - started < 12  # the head deadline, not TIMEOUT's kill
    assert "WORKER TIMEOUT" not in server.log()


def test_the_head_deadline_passing_while_an_answered_connection_closes_leaves_the_worker_alive(
    impatient_server,
):
    server = impatient_server
    before = set(server.worker_pids())
    sock = connect(server)
    sock.sendall(b"G@T")
    time.sleep(1.5)  # the 400 goes out at 1.5 s; gunicorn then lingers past the 2 s deadline for our close
    sock.sendall(b" /health HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _body = read_response(sock)
    assert status == 400
    assert post(server, images.jpeg((64, 48)), timeout=30).status_code == 200
    assert before <= set(server.worker_pids()), "a worker died"
    assert '"level":"error"' not in server.log()


def test_a_client_that_does_not_read_its_response_is_cut_off_at_the_send_deadline(impatient_server):
    server = impatient_server
    # A set of large lossless renditions: megabytes of JSON, far more than the client's tiny receive buffer.
    noise = images.encode(Image.effect_noise((1024, 768), 90).convert("RGB"), "PNG")
    fields = {
        "variants": json.dumps([{"name": f"v{i}", "format": "png", "width": 1024 - i} for i in range(4)])
    }
    body, content_type = multipart(noise, fields)
    host = server.url.removeprefix("http://")
    head = (
        f"POST /variants HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {server.token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sleepers = []
    for _ in range(2):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(tuple(connect_address(server)))
        sock.sendall(head + body)  # and never read the answer
        sleepers.append(sock)
    # Both workers convert, then write into full buffers until SEND_TIMEOUT cuts them off.
    assert answered_meanwhile(server, sleepers) < 12  # freed by SEND_TIMEOUT, not TIMEOUT's kill
    assert "WORKER TIMEOUT" not in server.log()
    for sock in sleepers:
        sock.close()


def test_a_client_that_left_gets_no_conversion(impatient_server):
    server = impatient_server
    data = images.encode(Image.effect_noise((2400, 1800), 90).convert("RGB"), "PNG")
    body, content_type = multipart(data, {"format": "avif"})
    host = server.url.removeprefix("http://")
    head = (
        f"POST /convert HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {server.token}\r\n"
        f"X-Request-Id: gone-client-1\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    blockers = [connect(server) for _ in range(2)]  # both workers busy with silent heads for ~2 s
    for sock in blockers:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
    gone = connect(server)
    gone.sendall(head + body)
    gone.close()  # gives up while its request still waits in the queue
    line = wait_until(lambda: log_line(server, "gone-client-1"), "the gone client's log line")
    assert line["status"] == 499 and line["error_code"] == "client_gone"
    assert "pipeline_ms" not in line  # nothing was decoded or encoded
    metrics = requests.get(f"{server.url}/metrics", headers=server.headers(), timeout=5).text
    assert 'imgopt_rejections_total{code="client_gone"} 1.0' in metrics
    for sock in blockers:
        sock.close()


def connect_address(server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


# --- memory -----------------------------------------------------------------------------------------------


def transparent_photo() -> bytes:
    """A 2048x1536 photo-like PNG with a transparent border: without TRIM_ABOVE_MB a worker keeps ~55 MiB
    more after five conversions of it (measured), with it ~1."""
    image = Image.open(io.BytesIO(photo((2048, 1536)))).convert("RGBA")
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).ellipse((200, 100, 1850, 1400), fill=255)
    image.putalpha(mask)
    return images.encode(image, "PNG")


def settled_rss(pid: int) -> float:
    """The worker's RSS once it is idle and has given back what it gives back: the same reading for twice
    IDLE_SECONDS, the idle time after which a worker trims its heap."""
    last, since = memory_of(pid)["VmRSS"], time.monotonic()

    def steady() -> bool:
        nonlocal last, since
        now = memory_of(pid)["VmRSS"]
        if now != last:
            last, since = now, time.monotonic()
        return time.monotonic() - since >= 2 * IDLE_SECONDS

    wait_until(steady, "the worker's RSS to settle", timeout=15)
    return last


def test_a_worker_gives_memory_back_after_a_large_request(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="1", MAX_REQUESTS="0")
    try:
        pid = server.worker_pids()[0]
        assert post(server, images.jpeg((64, 48)), format="avif").status_code == 200
        baseline = settled_rss(pid)
        for fmt in ("webp", "avif", "webp", "avif", "webp"):
            assert post(server, transparent_photo(), format=fmt, width=1200).status_code == 200
        after = settled_rss(pid)
        assert server.worker_pids() == [pid]
    finally:
        stop_gunicorn(server)
    assert after - baseline <= 48, (baseline, after)


def test_a_worker_over_max_worker_rss_is_restarted_after_answering(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="1", MAX_WORKER_RSS_MB="1")
    try:
        first = server.worker_pids()
        assert post(server, images.jpeg()).status_code == 200
        wait_until(lambda: server.worker_pids() not in ([], first), "a fresh worker")
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
