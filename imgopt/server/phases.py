"""Bounds on the phases of a request that a slow client controls, and what the worker tells the app.

A socket timeout bounds each read, not a phase: a client sending one header line every few seconds never
trips it. So the request head has a deadline of its own (HEADER_READ_TIMEOUT, a SIGALRM timer from accept
until gunicorn has parsed the headers); the body has BODY_READ_TIMEOUT per read and TIMEOUT/3 in all (the
app's read, imgopt/http/uploads.py); the response must be written within SEND_TIMEOUT in all (each write's
socket timeout is what is left of it). The worker beats its heartbeat at each phase boundary, so no phase
borrows another's share of gunicorn's TIMEOUT.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from imgopt.server.connection import peer_has_closed, queued_connections
from imgopt.server.environ import CLIENT_GONE, HEARTBEAT, QUEUED


class HeaderTimeout(Exception):
    """The request head did not arrive within HEADER_READ_TIMEOUT."""

    def __str__(self) -> str:
        return "the request line and headers did not arrive within HEADER_READ_TIMEOUT"


def _expire(_signal: int, _frame: object) -> None:
    raise HeaderTimeout


def install_header_alarm() -> None:
    """Make SIGALRM raise HeaderTimeout in the worker (once, before it serves; the body's own deadline in
    imgopt/http/uploads.py borrows the signal and puts this handler back)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGALRM, _expire)


def arm_header_deadline(seconds: float) -> None:
    """Raise HeaderTimeout in this (the worker's main) thread once ``seconds`` have passed."""
    if seconds and threading.current_thread() is threading.main_thread():
        signal.setitimer(signal.ITIMER_REAL, seconds)


def disarm_header_deadline() -> None:
    """The head has arrived (or the connection is done): no alarm."""
    if threading.current_thread() is threading.main_thread():
        signal.setitimer(signal.ITIMER_REAL, 0)


class SendDeadline:
    """A response body whose every write gets, as its socket timeout, what is left of ``seconds``: a client
    that stops reading frees the worker within SEND_TIMEOUT however many chunks the body has."""

    def __init__(self, body: Iterable[bytes], sock: socket.socket, seconds: float, restore: float | None):
        self.body, self.sock, self.seconds, self.restore = body, sock, seconds, restore

    def __iter__(self) -> Iterator[bytes]:
        deadline = time.monotonic() + self.seconds
        for chunk in self.body:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            yield chunk

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()
        with contextlib.suppress(OSError):
            self.sock.settimeout(self.restore)


def with_connection_facts(
    app: Callable[..., Iterable[bytes]],
    *,
    heartbeat: Callable[[], None],
    listeners: list[Any],
    send_timeout: float,
) -> Callable[..., Iterable[bytes]]:
    """Wrap the WSGI app: each request can beat the worker's heartbeat, ask whether its client has gone and
    how many connections wait behind it; its response is written within ``send_timeout``."""

    def queued() -> int:
        return sum(queued_connections(listener.sock) for listener in listeners if hasattr(listener, "sock"))

    def app_with_facts(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        environ[HEARTBEAT] = heartbeat
        environ[QUEUED] = queued
        if sock is not None:
            environ[CLIENT_GONE] = lambda: peer_has_closed(sock)
        body = app(environ, start_response)
        if sock is None or not send_timeout:
            return body
        return SendDeadline(body, sock, send_timeout, sock.gettimeout())

    return app_with_facts
