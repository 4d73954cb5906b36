"""Deadlines on the phases of a request that a slow client controls; the one owner of SIGALRM.

A socket timeout bounds each read, not a phase: a client sending one header line every few seconds never
trips it. So the request head has a deadline of its own (HEADER_READ_TIMEOUT, from accept until gunicorn has
parsed the headers); the body has BODY_READ_TIMEOUT per read (the socket's timeout) and TIMEOUT/3 in all
(``within``, around the app's read in imgopt/http/uploads.py); the response must be written within
SEND_TIMEOUT in all (``SendDeadline``: each write's socket timeout is what is left of it).

The head and body deadlines interrupt a blocking read with SIGALRM, which only a process's main thread
receives (a sync worker serves there); elsewhere they do nothing. One handler is installed, and it raises
whatever the deadline armed now asks for: one deadline at a time, never a handler swapped and put back.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterable, Iterator


class HeaderTimeout(Exception):
    """The request head did not arrive within HEADER_READ_TIMEOUT."""

    def __str__(self) -> str:
        return "the request line and headers did not arrive within HEADER_READ_TIMEOUT"


# What the armed deadline raises when it passes; None: nothing is armed (a late signal does nothing).
_armed: type[BaseException] | None = None


def _expire(_signal: int, _frame: object) -> None:
    if _armed is not None:
        raise _armed


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def install() -> None:
    """Make SIGALRM this module's (idempotent; the worker calls it before it serves)."""
    if _in_main_thread() and signal.getsignal(signal.SIGALRM) is not _expire:
        signal.signal(signal.SIGALRM, _expire)


def arm(seconds: float, raises: type[BaseException]) -> None:
    """Raise ``raises`` in the main thread once ``seconds`` have passed (0: nothing is armed)."""
    global _armed  # noqa: PLW0603  (the one deadline a process's main thread has at a time)
    if not seconds or not _in_main_thread():
        return
    install()
    _armed = raises
    signal.setitimer(signal.ITIMER_REAL, seconds)


def disarm() -> None:
    """No deadline: the phase is over."""
    global _armed  # noqa: PLW0603
    if _in_main_thread():
        signal.setitimer(signal.ITIMER_REAL, 0)
        _armed = None


def arm_header_deadline(seconds: float) -> None:
    """The request head must arrive within ``seconds`` of now (HEADER_READ_TIMEOUT), else HeaderTimeout."""
    arm(seconds, HeaderTimeout)


@contextlib.contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Raise TimeoutError inside the block once ``seconds`` have passed, even within a blocking read."""
    if not seconds:
        yield
        return
    arm(seconds, TimeoutError)
    try:
        yield
    finally:
        disarm()


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
