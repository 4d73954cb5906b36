"""Shedding by how long a request waited and how long its caller waits: the rules alone (tables of cases, a
clock of our own), then live: a large upload judged by its first byte and refused with a JSON 503 its caller
reads (never a reset, even mid-upload); a caller that gives up teaching the worker how long it waits; two
callers on one token with declared waits of 5 s and 60 s, the patient one never refused; and clients
without a token, which change nothing for the callers that have one (counts, side by side in one run)."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import replace

import pytest
import requests
from PIL import Image

from imgopt.http.admission import declared_wait
from imgopt.server.shedding import (
    CALLER_GIVES_UP_SOONER,
    CANNOT_FINISH_IN_TIME,
    MAX_CALLERS,
    PATIENCE_MEMORY,
    SHORTEST_BOUND,
    WAITED_TOO_LONG,
    Caller,
    QueueWatch,
)
from testing import images
from testing.http import multipart
from testing.server import start_gunicorn, stop_gunicorn
from testing.sockets import queued, taken, wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watch(max_wait: float = 30, workers: int = 2) -> tuple[QueueWatch, Clock]:
    clock = Clock()
    return QueueWatch(max_wait, workers, clock), clock


LARAVEL = Caller(0, "imgopt-laravel/1.0")
IMPATIENT = Caller(0, "impatient/1.0")


@pytest.mark.parametrize(
    ("waited", "refused"), [(0.0, False), (29.9, False), (30.0, False), (30.1, True), (300, True)]
)
def test_a_request_is_refused_only_once_it_has_waited_longer_than_the_bound(waited, refused):
    queue, _clock = watch(max_wait=30)
    refusal = queue.judge(LARAVEL, "/variants", waited, queued=100)
    assert (refusal is not None) == refused
    if refused:
        assert (refusal.reason, refusal.bound) == (WAITED_TOO_LONG, 30)


def test_a_bound_of_zero_never_refuses():
    queue, _clock = watch(max_wait=0)
    assert queue.judge(replace(LARAVEL, declared_wait=1), "/convert", 10_000, queued=10_000) is None


@pytest.mark.parametrize(
    ("queued", "service", "workers", "retry_after"),
    [(0, 0.1, 2, 1), (10, 0.5, 2, 3), (16, 1.2, 2, 10), (2000, 1.0, 2, 60)],
)
def test_retry_after_is_the_wait_a_new_request_can_expect(queued, service, workers, retry_after):
    queue, _clock = watch(max_wait=1, workers=workers)
    queue.service_seconds = service
    assert queue.judge(LARAVEL, "/convert", 5, queued).retry_after == retry_after


def test_the_time_a_request_takes_is_a_running_mean_and_the_shortest_lately_is_kept_per_route():
    queue, _clock = watch()
    for _ in range(40):
        queue.served("/variants", 1.2)
    queue.served("/convert", 0.3)
    queue.served("/convert", 0.1)
    assert queue.service_seconds == pytest.approx(0.836, abs=0.01)  # 1.2, then 0.2 of the way to 0.3, to 0.1
    assert (queue.shortest("/variants"), queue.shortest("/convert"), queue.shortest("/info")) == (1.2, 0.1, 0)


@pytest.mark.parametrize(
    ("declared", "shortest", "max_wait", "waited", "refusal"),
    [
        # A caller that waits 5 s, for a request that has lately taken at least 1 s: up to 4 s of waiting.
        (5, 1.0, 30, 3.9, None),
        (5, 1.0, 30, 4.0, None),
        (5, 1.0, 30, 4.1, (CANNOT_FINISH_IN_TIME, 4.0)),
        # Nothing known of the route yet: the whole declared wait.
        (5, None, 30, 4.9, None),
        (5, None, 30, 5.1, (CANNOT_FINISH_IN_TIME, 5.0)),
        # A caller that waits 60 s: MAX_QUEUE_WAIT still bounds the queue, as for everyone.
        (60, 1.0, 30, 29, None),
        (60, 1.0, 30, 31, (WAITED_TOO_LONG, 30)),
        # A request that cannot be finished even at once is refused at once.
        (0.5, 1.0, 30, 0.01, (CANNOT_FINISH_IN_TIME, -0.5)),
    ],
)
def test_a_declared_wait_refuses_only_what_could_not_be_finished_in_it(
    declared, shortest, max_wait, waited, refusal
):
    queue, _clock = watch(max_wait=max_wait)
    if shortest is not None:
        queue.served("/convert", shortest)
        queue.served("/convert", shortest + 2)
    judged = queue.judge(replace(LARAVEL, declared_wait=declared), "/convert", waited, queued=10)
    assert (judged if judged is None else (judged.reason, round(judged.bound, 2))) == refusal


@pytest.mark.parametrize(
    ("fields", "seconds"),
    [
        ([], None),
        (["wait=5"], 5.0),
        (["respond-async, wait=60"], 60.0),
        (["WAIT = 12.5"], 12.5),
        (['wait="10"'], 10.0),
        (["handling=lenient", "wait=7; foo=bar"], 7.0),
        (["wait=0"], None),  # cannot be honoured: ignored, as RFC 7240 asks
        (["wait=-3"], None),
        (["wait=soon"], None),
        (["wait=100000"], None),  # over a day
        (["waiting=5"], None),
    ],
)
def test_the_declared_wait_is_read_from_prefer_and_what_cannot_be_honoured_is_ignored(fields, seconds):
    assert declared_wait(fields) == seconds


def test_a_caller_that_gives_up_gets_a_bound_of_its_own_and_no_one_else_does():
    queue, _clock = watch(max_wait=30)
    queue.service_seconds = 0.2
    queue.caller_left(IMPATIENT, 4.3)
    assert queue.judge(IMPATIENT, "/convert", 5, queued=10) is None  # one abandoned request is not a habit
    queue.caller_left(IMPATIENT, 4.1)
    refusal = queue.judge(IMPATIENT, "/convert", 3.8, queued=10)
    assert (refusal.reason, round(refusal.bound, 2)) == (CALLER_GIVES_UP_SOONER, 3.7)  # 4.1 - 2 x 0.2
    assert queue.judge(IMPATIENT, "/convert", 3.6, queued=10) is None
    assert queue.judge(LARAVEL, "/convert", 3.8, queued=10) is None
    # The same User-Agent on another token is another caller.
    assert queue.judge(replace(IMPATIENT, token=1), "/convert", 3.8, queued=10) is None


def test_nothing_is_learned_from_a_caller_that_declared_its_wait_and_it_is_judged_by_it_alone():
    queue, _clock = watch(max_wait=30)
    web = replace(LARAVEL, declared_wait=5)
    queue.caller_left(web, 1.0)
    queue.caller_left(web, 1.0)
    assert queue.patience(LARAVEL) is None
    job = replace(LARAVEL, declared_wait=60)
    assert queue.judge(job, "/variants", 20, queued=10) is None


def test_a_callers_patience_is_forgotten_after_a_while():
    queue, clock = watch(max_wait=30)
    queue.caller_left(IMPATIENT, 4.0)
    queue.caller_left(IMPATIENT, 4.0)
    assert queue.patience(IMPATIENT) == 4.0
    clock.now += PATIENCE_MEMORY + 1
    assert queue.patience(IMPATIENT) is None


def test_the_learned_bound_never_shrinks_below_the_shortest():
    queue, _clock = watch(max_wait=30)
    queue.service_seconds = 5.0
    queue.caller_left(IMPATIENT, 1.0)
    queue.caller_left(IMPATIENT, 1.0)
    assert queue.judge(IMPATIENT, "/convert", SHORTEST_BOUND, queued=1) is None
    assert queue.judge(IMPATIENT, "/convert", SHORTEST_BOUND + 0.01, queued=1).bound == SHORTEST_BOUND


def test_so_many_callers_are_remembered_per_token_and_one_tokens_cannot_push_out_anothers():
    queue, _clock = watch()
    queue.caller_left(IMPATIENT, 1.0)
    queue.caller_left(IMPATIENT, 1.0)
    for index in range(200):
        queue.caller_left(Caller(1, f"made-up-{index}"), 1.0)
    assert queue.callers_remembered(1) == MAX_CALLERS
    assert queue.patience(IMPATIENT) == 1.0


# --- live ------------------------------------------------------------------------------------------------


@pytest.fixture
def one_worker(tmp_path):
    """One worker, stale after 1 s; a silent connection holds it for HEADER_READ_TIMEOUT (3 s)."""
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="1", MAX_QUEUE_WAIT="1", HEADER_READ_TIMEOUT="3")
    yield server
    stop_gunicorn(server)


def port(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port(server)), timeout=60)


def hold_the_worker(server, holders: int = 1) -> list[socket.socket]:
    """Connections that send nothing, each holding a worker until the head deadline passes; returned once a
    worker has taken the first (the rest wait in the backlog)."""
    socks = []
    for index in range(holders):
        socks.append(connect(server))
        if index == 0:
            wait_until(lambda: taken(port(server)) >= 1, "the worker to take the silent connection")
    return socks


def queue_behind(server, count: int) -> None:
    """Wait until ``count`` connections wait in the backlog (so that they are taken in the order sent)."""
    wait_until(lambda: queued(port(server)) >= count, f"{count} connections in the backlog")


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


def request_head(
    server, body: tuple[bytes, str], user_agent: str = "tests", *, token=True, wait=None
) -> bytes:
    auth = f"Authorization: Bearer {server.token}\r\n" if token else ""
    prefer = f"Prefer: wait={wait}\r\n" if wait is not None else ""
    return (
        f"POST /convert HTTP/1.1\r\nHost: x\r\n{auth}{prefer}User-Agent: {user_agent}\r\n"
        f"Content-Type: {body[1]}\r\nContent-Length: {len(body[0])}\r\n\r\n"
    ).encode()


def log_lines(server) -> list[dict]:
    return [json.loads(line) for line in server.log().splitlines() if '"path":"/convert"' in line]


def metric(server, pattern: str) -> float:
    metrics = requests.get(f"{server.url}/metrics", headers=server.headers(), timeout=10).text
    return sum(float(value) for value in re.findall(pattern, metrics, re.M))


@pytest.mark.live
def test_a_large_upload_is_judged_by_its_first_bytes_arrival_and_its_503_is_read_not_reset(one_worker):
    noise = Image.frombytes("RGB", (2400, 1800), os.urandom(2400 * 1800 * 3))
    body = multipart(images.encode(noise, "PNG", compress_level=1), {"width": "200"})
    assert len(body[0]) > 12_000_000  # far more than the kernel's buffers hold: it arrives as it is read
    (held,) = hold_the_worker(one_worker)
    stale = connect(one_worker)
    # Sent whole: its last bytes arrive only once the worker reads them, 3 s on; its first came at once.
    sender = threading.Thread(target=lambda: stale.sendall(request_head(one_worker, body) + body[0]))
    sender.start()
    status, headers, answer = read_answer(stale)
    sender.join()
    assert status == 503
    error = json.loads(answer)["error"]
    assert error["code"] == "overloaded"
    assert re.search(
        r"waited [2-9]\.\d s for a worker, longer than 1\.0 s \(MAX_QUEUE_WAIT\)", error["message"]
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
    assert metric(one_worker, r'^imgopt_refusals_total\{reason="waited_too_long"\} (\S+)$') == 1
    assert metric(one_worker, r"^imgopt_queue_wait_seconds_count (\S+)$") >= 2


@pytest.mark.live
def test_a_caller_that_gives_up_teaches_the_worker_how_long_it_waits(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="1", MAX_QUEUE_WAIT="30", HEADER_READ_TIMEOUT="3")
    try:
        body = multipart(images.jpeg((400, 300)), {"width": "100"})
        for left in (1, 2):  # two requests that leave after 1 s, while the worker is held for 3 s
            (held,) = hold_the_worker(server)
            leaving = connect(server)
            leaving.sendall(request_head(server, body, "impatient/1.0") + body[0])
            time.sleep(1)  # how long this caller waits
            leaving.close()
            held.close()
            wait_until(lambda n=left: [line["status"] for line in log_lines(server)].count(499) == n, "a 499")
        holders = hold_the_worker(server, 2)  # 6 s
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
    refused = next(entry for entry in log_lines(server) if entry["status"] == 503)
    assert refused["refusal"] == CALLER_GIVES_UP_SOONER
    assert refused["queue_wait_ms"] > 2000


@pytest.mark.live
def test_one_token_two_declared_waits_the_patient_caller_is_never_refused_while_the_other_is_shed(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="1", HEADER_READ_TIMEOUT="6")
    body = multipart(images.jpeg((400, 300)), {"width": "100"})
    answers: dict[str, list[int]] = {"5": [], "60": []}
    try:
        for _round in range(2):
            (held,) = hold_the_worker(server)  # the next request waits 6 s
            socks = []
            for wait in ("5", "60"):  # one token, one User-Agent: a web request and a queued job
                sock = connect(server)
                sock.sendall(request_head(server, body, "imgopt-laravel/1.0", wait=wait) + body[0])
                socks.append((wait, sock))
                queue_behind(server, len(socks))
            for wait, sock in socks:
                status, headers, _answer = read_answer(sock)
                answers[wait].append(status)
                assert headers["Preference-Applied"] == f"wait={wait}"
            held.close()
    finally:
        stop_gunicorn(server)
    assert answers == {"5": [503, 503], "60": [200, 200]}
    refused = [line for line in log_lines(server) if line["status"] == 503]
    assert {line["refusal"] for line in refused} == {CANNOT_FINISH_IN_TIME}
    assert all(line["declared_wait_s"] == 5 for line in refused)


def package_like_sets(server, callers: int, sets: int) -> Counter:
    """Callers as imgopt/laravel makes them (its token, User-Agent, a declared 60 s wait, its retries of a
    503 after Retry-After), each making ``sets`` CMS sets; how each set ended."""
    variants = json.dumps(
        [{"name": f"{f}-{w}", "format": f, "width": w} for w in (320, 768) for f in ("webp", "avif")]
    )
    body = multipart(images.photo((1600, 1200)), {"variants": variants})
    ended: Counter = Counter()
    lock = threading.Lock()

    def caller() -> None:
        for _ in range(sets):
            for attempt in range(3):
                response = requests.post(
                    f"{server.url}/variants",
                    data=body[0],
                    headers={
                        **server.headers(),
                        "Content-Type": body[1],
                        "User-Agent": "GuzzleHttp/7",
                        "Prefer": "wait=60",
                    },
                    timeout=60,
                )
                with lock:
                    ended[f"attempt {response.status_code}"] += 1
                if response.status_code != 503 or attempt == 2:
                    break
                time.sleep(float(response.headers.get("Retry-After", "1")))
            with lock:
                ended["made" if response.status_code == 200 else "failed"] += 1

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ended


def unauthenticated_senders(server, stop: threading.Event) -> list[threading.Thread]:
    """Clients without a valid token that send a small /variants as the package would (its User-Agent, and
    Guzzle's) and close at once, over and over."""
    body = multipart(images.jpeg((64, 48)), {"variants": '[{"name": "a", "width": 32}]'})

    def sender(user_agent: str, token: bool) -> None:
        while not stop.is_set():
            sock = connect(server)
            head = request_head(server, body, user_agent, token=False).replace(b"/convert", b"/variants")
            if token:  # a wrong one
                head = head.replace(b"Host: x\r\n", b"Host: x\r\nAuthorization: Bearer not-the-token\r\n")
            sock.sendall(head + body[0])
            sock.close()

    return [
        threading.Thread(target=sender, args=(agent, token))
        for agent in ("GuzzleHttp/7", "imgopt-laravel/1.0")
        for token in (False, True)
    ]


@pytest.mark.live
def test_clients_without_a_token_change_nothing_for_the_callers_that_have_one(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="2")
    try:
        alone = package_like_sets(server, callers=4, sets=3)
        stop = threading.Event()
        hostile = unauthenticated_senders(server, stop)
        for thread in hostile:
            thread.start()
        try:
            beside = package_like_sets(server, callers=4, sets=3)
        finally:
            stop.set()
            for thread in hostile:
                thread.join()
        unauthorized = metric(
            server, r'^imgopt_requests_total\{[^}]*route="/variants",status="401"[^}]*\} (\S+)$'
        )
        learned = metric(
            server, r'^imgopt_refusals_total\{reason="(?:caller_gives_up_sooner|client_gone)"\} (\S+)$'
        )
    finally:
        stop_gunicorn(server)
    assert alone == beside == Counter({"made": 12, "attempt 200": 12})
    assert unauthorized > 0  # they were there, and got 401
    assert learned == 0  # and nothing was learned from them
