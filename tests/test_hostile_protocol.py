"""Hostile HTTP framing over raw sockets, against the real gunicorn: every answer is the service's JSON error
with a registered code and an X-Request-Id (or a closed connection where nothing could be parsed), never a
5xx, and the worker that read it lives on."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field

import pytest

from imgopt.errors import ERROR_CODES
from testing import images
from testing.http import multipart

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = pytest.mark.live

BOUNDARY_BODY, CONTENT_TYPE = multipart(images.jpeg((32, 24)), {"width": "16"})


@dataclass
class Answer:
    """What came back on one connection: None for a connection closed without a response."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw: bytes = b""


def exchange(server, raw: bytes, *, half_close: bool = False, timeout: float = 15) -> Answer:
    """Send ``raw`` on a fresh connection (and half-close it when asked, so a truncated request ends); read
    to EOF. A half-closed client looks gone to the service (its FIN is queued), so only truncation uses it."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    if not received:
        return Answer(None)
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(lines[0].split()[1]), headers, body, received)


def request(head: str, body: bytes = b"") -> bytes:
    """A request from its head (lines ending in LF, made CRLF; a blank line last) and body."""
    return head.replace("\n", "\r\n").encode("latin-1") + body


def upload_head(server, extra: str) -> str:
    auth = f"Authorization: Bearer {server.token}"
    return f"POST /convert HTTP/1.1\nHost: x\n{auth}\nContent-Type: {CONTENT_TYPE}\n{extra}"


def chunked(*chunks: bytes, trailer: bytes = b"") -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n" + trailer + b"\r\n"


def assert_json_error(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer.raw[:400]
    assert answer.headers["content-type"] == "application/json"
    error = json.loads(answer.body)["error"]
    assert error["code"] == code
    assert error["code"] in ERROR_CODES
    assert error["request_id"] == answer.headers["x-request-id"]


@pytest.fixture
def workers_live_on(live_server):
    """The workers that answered the hostile requests are the same ones, alive and answering, afterwards."""
    before = set(live_server.worker_pids())
    yield
    assert exchange(live_server, request("GET /health HTTP/1.1\nHost: x\n\n")).status == 200
    assert before <= set(live_server.worker_pids()), "a worker died"
    assert "WORKER TIMEOUT" not in live_server.log()


# Framing gunicorn refuses before the app sees anything: (name, raw request, status, code).
HEAD_CASES = [
    ("garbage-request-line", b"\x00\x01\x02 garbage\r\n\r\n", 400, "malformed_request"),
    ("invalid-method", b"G@T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed_request"),
    ("invalid-version", b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", 400, "malformed_request"),
    ("http-0.9-request-line", b"GET /health\r\n\r\n", 400, "malformed_request"),
    ("invalid-header-name", b"GET /health HTTP/1.1\r\nBad Header: x\r\n\r\n", 400, "malformed_request"),
    ("obsolete-folding", b"GET /health HTTP/1.1\r\nX-A: a\r\n folded\r\n\r\n", 400, "malformed_request"),
    (
        "content-length-not-a-number",
        b"POST /convert HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        400,
        "malformed_request",
    ),
    (
        "negative-content-length",
        b"POST /convert HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        400,
        "malformed_request",
    ),
    (
        "two-different-content-lengths",
        b"POST /convert HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
        "malformed_request",
    ),
    (
        "transfer-encoding-with-content-length",
        b"POST /convert HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        400,
        "malformed_request",
    ),
    (
        "unsupported-transfer-coding",
        b"POST /convert HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        400,
        "malformed_request",
    ),
    (
        "expect-other-than-continue",
        b"GET /health HTTP/1.1\r\nExpect: teapot\r\n\r\n",
        417,
        "expectation_failed",
    ),
    (
        "request-line-too-long",
        b"GET /health?" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n",
        414,
        "request_line_too_long",
    ),
    (
        "header-field-too-long",
        b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
        431,
        "headers_too_large",
    ),
    (
        "too-many-header-fields",
        b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(60)) + b"\r\n",
        431,
        "headers_too_large",
    ),
]


@pytest.mark.parametrize(
    ("raw", "status", "code"), [case[1:] for case in HEAD_CASES], ids=[c[0] for c in HEAD_CASES]
)
def test_framing_gunicorn_refuses_is_answered_in_json(live_server, workers_live_on, raw, status, code):
    assert_json_error(exchange(live_server, raw), status, code)


def test_a_refused_request_is_logged_in_one_line_without_a_traceback(live_server, workers_live_on):
    exchange(live_server, b"G@T /health HTTP/1.1\r\nHost: x\r\n\r\n")
    lines = [line for line in live_server.log().splitlines() if "refused a request" in line]
    assert lines
    entry = json.loads(lines[-1])
    assert entry["error_code"] == "malformed_request" and "traceback" not in entry


# Chunked bodies: the head is fine, the app reads the body through gunicorn's chunk reader.
def test_a_chunk_size_that_is_not_hex_is_a_400(live_server, workers_live_on):
    raw = request(upload_head(live_server, "Transfer-Encoding: chunked\n\n"), b"zz\r\nhello\r\n0\r\n\r\n")
    assert_json_error(exchange(live_server, raw), 400, "malformed_request")


def test_a_chunk_without_its_terminator_is_a_400(live_server, workers_live_on):
    raw = request(upload_head(live_server, "Transfer-Encoding: chunked\n\n"), b"5\r\nhelloXX0\r\n\r\n")
    assert_json_error(exchange(live_server, raw), 400, "malformed_request")


def test_a_truncated_chunk_is_a_4xx_or_a_closed_connection(live_server, workers_live_on):
    raw = request(upload_head(live_server, "Transfer-Encoding: chunked\n\n"), b"100\r\nonly ten b")
    answer = exchange(live_server, raw, half_close=True)
    if answer.status is not None:  # the client half-closed: it may be taken for gone (499)
        assert answer.status in (400, 499)
        assert json.loads(answer.body)["error"]["code"] in ("malformed_request", "bad_request", "client_gone")


def test_a_chunked_upload_with_extensions_and_trailers_converts(live_server, workers_live_on):
    half = len(BOUNDARY_BODY) // 2
    body = b"%x;name=value\r\n%s\r\n" % (half, BOUNDARY_BODY[:half])
    body += chunked(BOUNDARY_BODY[half:], trailer=b"X-Checksum: none\r\n")
    answer = exchange(live_server, request(upload_head(live_server, "Transfer-Encoding: chunked\n\n"), body))
    assert answer.status == 200, answer.raw[:300]
    assert answer.headers["content-type"] == "image/webp"


def test_an_invalid_chunk_extension_is_a_400(live_server, workers_live_on):
    body = b"5;\x00bad\r\nhello\r\n0\r\n\r\n"
    raw = request(upload_head(live_server, "Transfer-Encoding: chunked\n\n"), body)
    answer = exchange(live_server, raw)
    assert answer.status == 400, answer.raw[:300]
    assert json.loads(answer.body)["error"]["code"] == "malformed_request"


def test_a_body_shorter_than_its_content_length_is_refused_in_json(live_server, workers_live_on):
    raw = request(upload_head(live_server, f"Content-Length: {len(BOUNDARY_BODY) + 100}\n\n"), BOUNDARY_BODY)
    answer = exchange(live_server, raw, half_close=True)
    # The body ends with the client's FIN: the service sees a client that has gone (or, racing it, a short
    # body); without the FIN it would wait BODY_READ_TIMEOUT and answer 408.
    assert answer.status in (400, 499), answer.raw[:300]
    assert json.loads(answer.body)["error"]["code"] in ("bad_request", "client_gone")


def test_http_1_0_is_answered(live_server, workers_live_on):
    answer = exchange(live_server, b"GET /health HTTP/1.0\r\n\r\n")
    assert answer.status == 200
    assert json.loads(answer.body)["status"] == "ok"


def test_pipelined_requests_get_the_first_answer_then_a_clean_close(live_server, workers_live_on):
    raw = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 3
    answer = exchange(live_server, raw, half_close=False)
    assert answer.status == 200
    assert answer.headers["connection"] == "close"
    assert json.loads(answer.body[: int(answer.headers["content-length"])])["status"] == "ok"


def test_a_connection_that_sends_nothing_and_closes_gets_nothing(live_server, workers_live_on):
    assert exchange(live_server, b"", half_close=True).status is None
