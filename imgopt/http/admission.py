"""Admission: before an image route reads its upload, refuse work that nobody will receive or that would
wait too long for a worker.

The worker (imgopt/server/environ.py) puts two questions in the WSGI environ: has this client closed its
connection (its FIN queued behind the body it sent), and how many connections wait in the listen backlog.
Under Flask's test client neither is there, and everything is admitted.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request

from imgopt.errors import ClientGone, Overloaded
from imgopt.http.middleware import NOTHING_TO_DRAIN
from imgopt.http.runtime import runtime
from imgopt.server.environ import CLIENT_GONE, QUEUED


def admit() -> None:
    """Raise ClientGone for a caller who has left, Overloaded when more than MAX_QUEUED_PER_WORKER x workers
    connections wait."""
    check_client_still_there()
    limit = runtime().settings.max_queued
    queued: Callable[[], int] | None = request.environ.get(QUEUED)
    if limit and queued is not None:
        waiting = queued()
        if waiting > limit:
            # Not drained: reading an upload that will not be converted costs the worker more than the
            # answer, and under a burst that is what would eat the capacity the limit protects.
            request.environ[NOTHING_TO_DRAIN] = True
            msg = f"{waiting} requests are waiting for a worker (at most {limit} may); retry in a moment"
            raise Overloaded(msg)


def check_client_still_there() -> None:
    """Raise ClientGone once the client has closed its connection; its unread body is not drained."""
    if client_has_gone():
        request.environ[NOTHING_TO_DRAIN] = True
        msg = "the client closed the connection; the request was not processed"
        raise ClientGone(msg)


def still_wanted_check() -> Callable[[], bool] | None:
    """What the pipeline asks between its steps: is this request's client still there? Bound to the
    request now, so the pipeline's threads, which have no request context, can ask it too. None outside
    gunicorn, where nobody can tell."""
    gone: Callable[[], bool] | None = request.environ.get(CLIENT_GONE)
    if gone is None:
        return None
    return lambda: not gone()


def client_has_gone() -> bool:
    """Whether the client has closed its connection (never, outside gunicorn)."""
    gone: Callable[[], bool] | None = request.environ.get(CLIENT_GONE)
    return gone is not None and gone()
