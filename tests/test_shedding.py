"""Shedding by how long a request waited: the rule alone (a table of cases, a clock of our own), then live on
a one-worker gunicorn with the bound set small: a stale request is refused with a JSON 503 its caller reads
(never a reset, even mid-upload), a fresh one is served, and a caller that gives up teaches the worker how
long it waits."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time

import pytest
import requests
from PIL import Image

from imgopt.server.shedding import (
    CALLER_GIVES_UP_SOONER,
    PATIENCE_MEMORY,
    SHORTEST_BOUND,
    WAITED_TOO_LONG,
    QueueWatch,
)
from testing import images
from testing.http import multipart
from testing.server import start_gunicorn, stop_gunicorn


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watch(max_wait: float = 30, workers: int = 2) -> tuple[QueueWatch, Clock]:
    clock = Clock()
    return QueueWatch(max_wait, workers, clock), clock


@pytest.mark.parametrize(
    ("waited", "refused"), [(0.0, False), (29.9, False), (30.0, False), (30.1, True), (300, True)]
)
def test_a_request_is_refused_only_once_it_has_waited_longer_than_the_bound(waited, refused):
    queue, _clock = watch(max_wait=30)
    refusal = queue.judge("laravel", waited, queued=100)
    assert (refusal is not None) == refused
    if refused:
        assert (refusal.reason, refusal.bound) == (WAITED_TOO_LONG, 30)


def test_a_bound_of_zero_never_refuses():
    queue, _clock = watch(max_wait=0)
    assert queue.judge("anyone", 10_000, queued=10_000) is None


@pytest.mark.parametrize(
    ("queued", "service", "workers", "retry_after"),
    [(0, 0.1, 2, 1), (10, 0.5, 2, 3), (16, 1.2, 2, 10), (2000, 1.0, 2, 60)],
)
def test_retry_after_is_the_wait_a_new_request_can_expect(queued, service, workers, retry_after):
    queue, _clock = watch(max_wait=1, workers=workers)
    queue.service_seconds = service
    assert queue.judge("anyone", 5, queued).retry_after == retry_after


def test_the_time_a_request_takes_is_a_running_mean_of_the_requests_served():
    queue, _clock = watch()
    for _ in range(40):
        queue.served(1.2)
    assert queue.service_seconds == pytest.approx(1.2, abs=0.01)


def test_a_caller_that_gives_up_gets_a_bound_of_its_own_and_no_one_else_does():
    queue, _clock = watch(max_wait=30)
    queue.service_seconds = 0.2
    queue.caller_left("impatient", 4.3)
    assert queue.judge("impatient", 5, queued=10) is None  # one abandoned request is not a habit yet
    queue.caller_left("impatient", 4.1)
    refusal = queue.judge("impatient", 3.8, queued=10)
    assert (refusal.reason, round(refusal.bound, 2)) == (CALLER_GIVES_UP_SOONER, 3.7)  # 4.1 - 2 x 0.2
    assert queue.judge("impatient", 3.6, queued=10) is None
    assert queue.judge("laravel", 3.8, queued=10) is None


def test_a_callers_patience_is_forgotten_after_a_while():
    queue, clock = watch(max_wait=30)
    queue.caller_left("impatient", 4.0)
    queue.caller_left("impatient", 4.0)
    assert queue.patience("impatient") == 4.0
    clock.now += PATIENCE_MEMORY + 1
    assert queue.patience("impatient") is None
    assert queue.judge("impatient", 10, queued=1) is None


def test_the_learned_bound_never_shrinks_below_the_shortest():
    queue, _clock = watch(max_wait=30)
    queue.service_seconds = 5.0
    queue.caller_left("impatient", 1.0)
    queue.caller_left("impatient", 1.0)
    assert queue.judge("impatient", SHORTEST_BOUND, queued=1) is None
    assert queue.judge("impatient", SHORTEST_BOUND + 0.01, queued=1).bound == SHORTEST_BOUND


def test_only_so_many_callers_are_remembered():
    queue, _clock = watch()
    for index in range(200):
        queue.caller_left(f"caller-{index}", 1.0)
    assert queue.patience("caller-0") is None
    assert len(queue._abandoned) <= 64


# --- live ------------------------------------------------------------------------------------------------


@pytest.fixture
def one_worker(tmp_path):
    """One worker, stale after 1 s; a silent connection holds it for HEADER_READ_TIMEOUT (3 s)."""
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="1", MAX_QUEUE_WAIT="1", HEADER_READ_TIMEOUT="3")
    yield server
    stop_gunicorn(server)


def connect(server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def hold_the_worker(server) -> socket.socket:
    """A connection that sends nothing: the worker is held until the head deadline (3 s) passes."""
    sock = connect(server)
    time.sleep(0.2)  # accepted first
    return sock


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read until the server closes, then close, as a client does (else gunicorn lingers for our FIN)."""
    received = b""
    with sock:
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers, body


def request_head(server, body: tuple[bytes, str], user_agent: str = "tests") -> bytes:
    return (
        f"POST /convert HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n"
        f"User-Agent: {user_agent}\r\n"
        f"Content-Type: {body[1]}\r\nContent-Length: {len(body[0])}\r\n\r\n"
    ).encode()


@pytest.mark.live
def test_a_stale_request_mid_upload_gets_a_json_503_it_can_read_and_a_fresh_one_is_served(one_worker):
    noise = Image.frombytes("RGB", (2400, 1800), os.urandom(2400 * 1800 * 3))
    body = multipart(images.encode(noise, "PNG", compress_level=1), {"width": "200"})
    assert len(body[0]) > 12_000_000  # more than the kernel's buffers hold: the sender is still sending
    held = hold_the_worker(one_worker)
    stale = connect(one_worker)
    stale.sendall(request_head(one_worker, body) + body[0][:30_000])
    time.sleep(3.5)  # the worker takes it at 3 s, when its last byte is ~3.3 s old: stale
    stale.sendall(body[0][30_000:])  # the rest arrives after the refusal: read (drained), not reset
    status, headers, answer = read_answer(stale)
    assert status == 503
    error = json.loads(answer)["error"]
    assert error["code"] == "overloaded"
    assert re.search(
        r"waited \d+\.\d s for a worker, longer than 1\.0 s \(MAX_QUEUE_WAIT\)", error["message"]
    )
    assert int(headers["Retry-After"]) >= 1
    held.close()
    fresh = requests.post(
        f"{one_worker.url}/convert",
        headers=one_worker.headers(),
        files={"file": ("a", images.jpeg((400, 300)))},
        timeout=30,
    )
    assert fresh.status_code == 200, fresh.text
    metrics = requests.get(f"{one_worker.url}/metrics", headers=one_worker.headers(), timeout=10).text
    assert re.search(r'^imgopt_refusals_total\{reason="waited_too_long"\} 1\.0$', metrics, re.M)
    assert re.search(r"^imgopt_queue_wait_seconds_count [1-9]", metrics, re.M)


@pytest.mark.live
def test_a_caller_that_gives_up_teaches_the_worker_how_long_it_waits(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="1", MAX_QUEUE_WAIT="30", HEADER_READ_TIMEOUT="3")
    try:
        body = multipart(images.jpeg((400, 300)), {"width": "100"})
        for _ in range(2):  # two requests that leave after 1 s, while the worker is held for 3 s
            held = hold_the_worker(server)
            leaving = connect(server)
            leaving.sendall(request_head(server, body, "impatient/1.0") + body[0])
            time.sleep(1)
            leaving.close()
            held.close()
            time.sleep(0.5)
        holders = [hold_the_worker(server), hold_the_worker(server)]  # 6 s
        answers: dict[str, int] = {}

        def send(user_agent: str) -> None:
            sock = connect(server)
            sock.sendall(request_head(server, body, user_agent) + body[0])
            answers[user_agent] = read_answer(sock)[0]

        senders = [threading.Thread(target=send, args=(agent,)) for agent in ("impatient/1.0", "patient/1.0")]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=30)
        for held in holders:
            held.close()
    finally:
        stop_gunicorn(server)
    # Both waited ~6 s: within MAX_QUEUE_WAIT, but longer than the impatient caller has shown it waits (its
    # requests were found gone after ~3 s of waiting), less twice the time a request takes.
    assert answers == {"impatient/1.0": 503, "patient/1.0": 200}
    log = [json.loads(line) for line in server.log().splitlines() if '"path":"/convert"' in line]
    assert [entry["status"] for entry in log].count(499) == 2
    refused = next(entry for entry in log if entry["status"] == 503)
    assert refused["refusal"] == CALLER_GIVES_UP_SOONER
    assert refused["queue_wait_ms"] > 2000
