"""server/request_body.py: a body of known length received straight into the caller's buffer, over a real
socket pair and gunicorn's own Body and readers: what gunicorn read ahead comes first and is not lost,
nothing past the body is taken, a short body says so, and anything else is left to gunicorn's reader."""

from __future__ import annotations

import socket
import threading

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader

from imgopt.server.request_body import direct_reader


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def body_of(sock: socket.socket, length: int) -> Body:
    return Body(LengthReader(SocketUnreader(sock), length))


def test_the_body_arrives_whole_with_what_gunicorn_read_ahead_first(pair):
    ours, theirs = pair
    payload = bytes(range(256)) * 4096  # 1 MiB
    body = body_of(ours, len(payload))
    body.reader.unreader.unread(payload[:1000])  # what gunicorn read with the head
    theirs.sendall(payload[1000:5000])
    assert body.read(10) == payload[:10]  # Body keeps a little more than asked in its own buffer
    sender = threading.Thread(target=theirs.sendall, args=(payload[5000:],))  # more than a socket buffers
    sender.start()
    view = memoryview(bytearray(len(payload) - 10))
    assert direct_reader(body, ours)(view) == len(payload) - 10
    sender.join()
    assert bytes(view) == payload[10:]
    assert body.read(100) == b""  # nothing left for gunicorn to drain


def test_nothing_past_the_body_is_taken(pair):
    ours, _theirs = pair
    body = body_of(ours, 6)
    body.reader.unreader.unread(b"abcdefNEXT")
    view = memoryview(bytearray(6))
    assert direct_reader(body, ours)(view) == 6
    assert bytes(view) == b"abcdef"
    assert body.reader.unreader.read(4) == b"NEXT"


def test_a_short_body_fills_what_came(pair):
    ours, theirs = pair
    body = body_of(ours, 100)
    theirs.sendall(b"x" * 40)
    theirs.shutdown(socket.SHUT_WR)
    view = memoryview(bytearray(100))
    assert direct_reader(body, ours)(view) == 40


def test_a_stalled_client_times_out_and_the_connection_is_marked(pair):
    ours, theirs = pair
    ours.settimeout(0.2)
    body = body_of(ours, 100)
    theirs.sendall(b"x" * 10)
    with pytest.raises(TimeoutError):
        direct_reader(body, ours)(memoryview(bytearray(100)))
    assert body.failed


def test_a_chunked_body_or_no_socket_is_left_to_gunicorn(pair):
    ours, _theirs = pair
    assert direct_reader(Body(ChunkedReader(None, SocketUnreader(ours))), ours) is None
    assert direct_reader(body_of(ours, 10), None) is None
    assert direct_reader(object(), ours) is None
