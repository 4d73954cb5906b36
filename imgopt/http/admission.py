"""Admission: once the token is known and before an image route reads its upload, refuse work that nobody
will receive, that waited for a worker so long that it is no longer worth making, or that cannot be finished
before its caller stops waiting (imgopt/server/shedding.py decides which).

The worker (imgopt/server/environ.py) puts three questions in the WSGI environ: has this client closed its
connection (its FIN queued behind the body it sent), how long ago did its first byte arrive, and how many
connections wait in the listen backlog. Under Flask's test client none is there, and everything is admitted.

A caller may say how long it waits with RFC 7240's ``Prefer: wait=N`` (docs/api.md says why this header):
its request is then judged by that, its work is stopped once that has passed, and the answer says
``Preference-Applied: wait=N``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from flask import request

from imgopt.errors import ClientGone, Overloaded
from imgopt.http.middleware import NOTHING, limit_drain
from imgopt.http.request_facts import request_facts
from imgopt.http.runtime import runtime
from imgopt.imaging.context import Deadline, RequestContext
from imgopt.server.environ import CLIENT_GONE, QUEUED, WAITED
from imgopt.server.shedding import CALLER_GIVES_UP_SOONER, CANNOT_FINISH_IN_TIME, Caller

# Callers are told apart by their User-Agent (within their token), this long at most.
CALLER_LENGTH = 80

# A declared wait this long at most is honoured (a day); a longer one, or none, is no deadline at all.
LONGEST_DECLARED_WAIT = 86_400.0
WAIT_PREFERENCE = re.compile(r'\s*wait\s*=\s*"?([0-9]{1,6}(?:\.[0-9]{1,3})?)"?\s*', re.IGNORECASE | re.ASCII)

WHY = {
    CALLER_GIVES_UP_SOONER: "this caller gives up sooner",
    CANNOT_FINISH_IN_TIME: "its caller's declared wait, less the least such a request takes",
}


def declared_wait(prefer: list[str]) -> float | None:
    """The seconds a request's ``Prefer`` header fields say its caller waits (``wait=N``, RFC 7240 4.3), or
    None. A preference the service cannot honour (malformed, 0, over a day) is ignored, as RFC 7240 asks."""
    for field in prefer:
        for preference in field.split(","):
            match = WAIT_PREFERENCE.fullmatch(preference.split(";", 1)[0])
            if match:
                seconds = float(match[1])
                return seconds if 0 < seconds <= LONGEST_DECLARED_WAIT else None
    return None


def caller() -> Caller:
    """Who sent this request, as far as shedding cares: the token it authenticated with, its User-Agent,
    and the wait it declared."""
    facts = request_facts()
    assert facts.token_index is not None, "admission runs after authentication"
    agent = request.headers.get("User-Agent", "")[:CALLER_LENGTH]
    return Caller(facts.token_index, agent, facts.declared_wait_s)


def admit() -> None:
    """The API blueprint's second hook, after authentication: raise ClientGone for a caller who has left,
    Overloaded for a request that is stale or cannot be finished in time (its body is still drained, so the
    caller reads the answer instead of a reset)."""
    state, facts = runtime(), request_facts()
    if state.queue.enabled:
        facts.declared_wait_s = declared_wait(request.headers.getlist("Prefer"))
    waited = _waited()
    if waited is not None:
        facts.queue_wait_ms = round(waited * 1000)
        state.metrics.observe_queue_wait(waited)
    check_client_still_there()
    if waited is None:
        return
    queued: Callable[[], int] | None = request.environ.get(QUEUED)
    refusal = state.queue.judge(caller(), route(), waited, queued() if queued is not None else 0)
    if refusal is not None:
        facts.refusal = refusal.reason
        msg = (
            f"the request waited {refusal.waited:.1f} s for a worker, longer than {refusal.bound:.1f} s "
            f"({WHY.get(refusal.reason, 'MAX_QUEUE_WAIT')}); retry in {refusal.retry_after} s"
        )
        raise Overloaded(msg, retry_after_seconds=refusal.retry_after)


def learn_from(status: int, seconds: float) -> None:
    """After an admitted image request: how long it took (a request served), or how long its caller waited
    before leaving (one found gone, at admission or while it was being made); and the refusal's reason,
    counted. A request never admitted (no valid token) teaches nothing."""
    state, facts = runtime(), request_facts()
    if facts.queue_wait_ms is None or facts.token_index is None:
        return
    if facts.error_code == "client_gone":
        state.queue.caller_left(caller(), facts.queue_wait_ms / 1000 + seconds)
        state.metrics.count_refusal("client_gone")
    elif facts.refusal is not None:
        state.metrics.count_refusal(facts.refusal)
    elif status == 200:
        state.queue.served(route(), seconds)


def route() -> str:
    """The route a request matched, as the metrics name it."""
    return request.url_rule.rule if request.url_rule else request.path


def check_client_still_there() -> None:
    """Raise ClientGone once the client has closed its connection; its unread body is not drained."""
    if client_has_gone():
        limit_drain(request.environ, *NOTHING)
        msg = "the client closed the connection; the request was not processed"
        raise ClientGone(msg)


def request_context() -> RequestContext:
    """What the pipeline asks between its steps, bound to this request now, so that the pipeline's threads,
    which have no request context, can ask it too: is the client still there (never known outside
    gunicorn), and is there time left: until the caller's declared wait has passed since the request's
    first byte, and at most TIMEOUT less SEND_TIMEOUT from now (the worker is stopped TIMEOUT after the
    upload arrived, and the answer must be written within SEND_TIMEOUT of that). It borrows idle cores from
    the workers' shared ledger."""
    state, facts = runtime(), request_facts()
    gone: Callable[[], bool] | None = request.environ.get(CLIENT_GONE)
    now = time.monotonic()
    deadline = Deadline(now + max(1.0, state.settings.timeout - state.settings.send_timeout), "TIMEOUT")
    waited = facts.queue_wait_ms / 1000 if facts.queue_wait_ms is not None else 0.0
    if facts.declared_wait_s is not None and now - waited + facts.declared_wait_s < deadline.at:
        deadline = Deadline(now - waited + facts.declared_wait_s, "its caller's declared wait (Prefer: wait)")
    return RequestContext(
        still_wanted=None if gone is None else (lambda: not gone()),
        deadline=deadline,
        borrow=state.cores.borrow,
    )


def client_has_gone() -> bool:
    """Whether the client has closed its connection (never, outside gunicorn)."""
    gone: Callable[[], bool] | None = request.environ.get(CLIENT_GONE)
    return gone is not None and gone()


def _waited() -> float | None:
    waited: Callable[[], float | None] | None = request.environ.get(WAITED)
    return waited() if waited is not None else None
