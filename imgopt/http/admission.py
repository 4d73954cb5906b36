"""Admission: before an image route reads its upload, refuse work that nobody will receive, or that waited
for a worker so long that it is no longer worth making (imgopt/server/shedding.py decides which).

The worker (imgopt/server/environ.py) puts three questions in the WSGI environ: has this client closed its
connection (its FIN queued behind the body it sent), how long ago did its last byte arrive, and how many
connections wait in the listen backlog. Under Flask's test client none is there, and everything is admitted.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import request

from imgopt.errors import ClientGone, Overloaded
from imgopt.http.middleware import NOTHING_TO_DRAIN
from imgopt.http.request_facts import request_facts
from imgopt.http.runtime import runtime
from imgopt.imaging.context import Deadline, RequestContext
from imgopt.server.environ import CLIENT_GONE, QUEUED, WAITED

# Callers are told apart by their User-Agent, this long at most.
CALLER_LENGTH = 80


def admit() -> None:
    """Raise ClientGone for a caller who has left, Overloaded for a request that is stale (its body is still
    drained, so the caller reads the answer instead of a reset)."""
    state, facts = runtime(), request_facts()
    waited = _waited()
    if waited is not None:
        facts.queue_wait_ms = round(waited * 1000)
        state.metrics.observe_queue_wait(waited)
    check_client_still_there()
    if waited is None:
        return
    queued: Callable[[], int] | None = request.environ.get(QUEUED)
    refusal = state.queue.judge(caller(), waited, queued() if queued is not None else 0)
    if refusal is not None:
        facts.refusal = refusal.reason
        msg = (
            f"the request waited {refusal.waited:.1f} s for a worker, longer than {refusal.bound:.1f} s "
            + (
                "(MAX_QUEUE_WAIT)"
                if refusal.bound == state.queue.max_wait
                else "(this caller gives up sooner)"
            )
            + f"; retry in {refusal.retry_after} s"
        )
        raise Overloaded(msg, retry_after_seconds=refusal.retry_after)


def learn_from(status: int, seconds: float) -> None:
    """After an image request: how long it took (a request served), or how long its caller waited before
    leaving (one found gone, at admission or while it was being made); and the refusal's reason, counted."""
    state, facts = runtime(), request_facts()
    if facts.queue_wait_ms is None:
        return
    if facts.error_code == "client_gone":
        state.queue.caller_left(caller(), facts.queue_wait_ms / 1000 + seconds)
        state.metrics.count_refusal("client_gone")
    elif facts.refusal is not None:
        state.metrics.count_refusal(facts.refusal)
    elif status == 200:
        state.queue.served(seconds)


def caller() -> str:
    """Who sent the request, as far as shedding cares: its User-Agent."""
    return request.headers.get("User-Agent", "")[:CALLER_LENGTH]


def check_client_still_there() -> None:
    """Raise ClientGone once the client has closed its connection; its unread body is not drained."""
    if client_has_gone():
        request.environ[NOTHING_TO_DRAIN] = True
        msg = "the client closed the connection; the request was not processed"
        raise ClientGone(msg)


def request_context() -> RequestContext:
    """What the pipeline asks between its steps, bound to this request now, so that the pipeline's threads,
    which have no request context, can ask it too: is the client still there (never known outside
    gunicorn), and is there time left. The worker is stopped TIMEOUT after the upload arrived, and the
    answer must be written in SEND_TIMEOUT of that: the work must be done by then. It borrows idle cores
    from the workers' shared ledger."""
    state = runtime()
    gone: Callable[[], bool] | None = request.environ.get(CLIENT_GONE)
    budget = max(1.0, state.settings.timeout - state.settings.send_timeout)
    return RequestContext(
        still_wanted=None if gone is None else (lambda: not gone()),
        deadline=Deadline(time.monotonic() + budget, "TIMEOUT less SEND_TIMEOUT"),
        borrow=state.cores.borrow,
    )


def client_has_gone() -> bool:
    """Whether the client has closed its connection (never, outside gunicorn)."""
    gone: Callable[[], bool] | None = request.environ.get(CLIENT_GONE)
    return gone is not None and gone()


def _waited() -> float | None:
    waited: Callable[[], float | None] | None = request.environ.get(WAITED)
    return waited() if waited is not None else None
