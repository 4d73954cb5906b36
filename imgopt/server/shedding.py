"""Shedding load by how long a request waited for a worker, and by how long its caller will wait.

A count cannot stand for a wait: eight queued thumbnails are 0.15 s of work, eight CMS sets 6 s. So a
worker judges the request it has just taken by its wait, which the kernel knows (since its first byte
arrived; imgopt/server/connection.py), and serves it unless it is already stale:

- a caller that says how long it waits (``Prefer: wait=N``, docs/api.md) gets exactly that: its request is
  refused only when the wait so far plus the shortest time this kind of request has lately taken would
  pass N, so one it could still finish is never refused;
- every request may wait up to MAX_QUEUE_WAIT (30 s by default: half the 60 s the Laravel package waits,
  leaving the other half for the work and the answer);
- a caller that says nothing but has shown that it gives up sooner gets a shorter bound. When a worker
  finds a request whose client has left, it learns how long that caller waits (CoDel's sojourn time, read
  per caller): the shortest such wait in the last PATIENCE_MEMORY seconds, once seen PATIENCE_SAMPLES
  times, less twice the time a request takes, so that what is made is still wanted when it is done.
  Callers are told apart by what they cannot forge: the token they authenticated with (each token's
  callers are remembered apart, so one token's cannot push out another's), and their User-Agent within
  it. Nothing is learned from a caller that declared its wait, nor from one without a valid token.

A stale request is refused with 503 and a Retry-After of the wait a request arriving now can expect. Each
worker keeps its own watch: it sees about its share of the traffic.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

# How long, and from how many abandoned requests, a caller's patience is learned.
PATIENCE_MEMORY = 300.0
PATIENCE_SAMPLES = 2
# Callers remembered per token (the least recently seen is forgotten first).
MAX_CALLERS = 64
# A request that has waited less than this is always served: a bound never shrinks to nothing.
SHORTEST_BOUND = 0.25
# Weight of the newest request in the running mean of how long a request takes, and where it starts.
SERVICE_WEIGHT = 0.2
FIRST_SERVICE_SECONDS = 0.1
# The requests of a route whose shortest time stands for what the next one needs at least.
RECENT_PER_ROUTE = 20
# Retry-After, in whole seconds.
RETRY_AFTER_RANGE = (1, 60)

WAITED_TOO_LONG = "waited_too_long"
CALLER_GIVES_UP_SOONER = "caller_gives_up_sooner"
CANNOT_FINISH_IN_TIME = "cannot_finish_in_time"


@dataclass(frozen=True)
class Caller:
    """Who sent a request, as far as shedding cares: the token it authenticated with (its position in
    API_TOKEN), its User-Agent, and the wait it declared (seconds), if any."""

    token: int
    agent: str
    declared_wait: float | None = None


@dataclass(frozen=True)
class Refusal:
    """Why a request is not served: its wait, the bound it passed, and when to come back."""

    reason: str
    waited: float
    bound: float
    retry_after: int


def bound_for_declared_wait(declared: float, shortest: float) -> float:
    """How long a request whose caller waits ``declared`` seconds may have waited and still be finished in
    time, if it takes at least ``shortest`` seconds (the least this kind of request has lately taken)."""
    return declared - shortest


class QueueWatch:
    """One worker's view of the queue in front of it: how long requests take, and how long callers wait."""

    def __init__(self, max_wait: float, workers: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self.workers = max(1, workers)
        self.clock = clock
        self.service_seconds = FIRST_SERVICE_SECONDS
        self._recent: dict[str, deque[float]] = {}
        self._abandoned: dict[int, OrderedDict[str, deque[tuple[float, float]]]] = {}

    @property
    def enabled(self) -> bool:
        return self.max_wait > 0

    def judge(self, caller: Caller, route: str, waited: float, queued: int) -> Refusal | None:
        """A refusal for a request of ``caller`` to ``route`` that waited ``waited`` seconds with ``queued``
        connections behind it, or None when it is to be served."""
        if not self.enabled:
            return None
        bound, reason = self.max_wait, WAITED_TOO_LONG
        if caller.declared_wait is not None:
            declared = bound_for_declared_wait(caller.declared_wait, self.shortest(route))
            if declared < bound:
                bound, reason = declared, CANNOT_FINISH_IN_TIME
        else:
            patience = self.patience(caller)
            if patience is not None:
                learned = max(SHORTEST_BOUND, patience - 2 * self.service_seconds)
                if learned < bound:
                    bound, reason = learned, CALLER_GIVES_UP_SOONER
        if waited <= bound:
            return None
        return Refusal(reason, waited, bound, self.retry_after(queued))

    def patience(self, caller: Caller) -> float | None:
        """The shortest wait after which ``caller``'s requests were found abandoned lately, or None."""
        seen = self._abandoned.get(caller.token, OrderedDict()).get(caller.agent)
        if seen is None:
            return None
        horizon = self.clock() - PATIENCE_MEMORY
        while seen and seen[0][0] < horizon:
            seen.popleft()
        if len(seen) < PATIENCE_SAMPLES:
            return None
        return min(waited for _at, waited in seen)

    def caller_left(self, caller: Caller, waited: float) -> None:
        """``caller`` closed its connection after waiting ``waited`` seconds for its answer. Learned only of a
        caller that declared no wait of its own (one that did is judged by it)."""
        if caller.declared_wait is not None:
            return
        callers = self._abandoned.setdefault(caller.token, OrderedDict())
        seen = callers.setdefault(caller.agent, deque(maxlen=32))
        callers.move_to_end(caller.agent)
        seen.append((self.clock(), waited))
        while len(callers) > MAX_CALLERS:
            callers.popitem(last=False)

    def callers_remembered(self, token: int) -> int:
        """How many of a token's callers have a patience on record (for the tests and the metrics)."""
        return len(self._abandoned.get(token, ()))

    def served(self, route: str, seconds: float) -> None:
        """A request to ``route`` was made in ``seconds``."""
        self.service_seconds += SERVICE_WEIGHT * (seconds - self.service_seconds)
        self._recent.setdefault(route, deque(maxlen=RECENT_PER_ROUTE)).append(seconds)

    def shortest(self, route: str) -> float:
        """The least time a request to ``route`` has taken lately (0 before any): what the next one needs
        at least, so that a request refused for lack of time could not have been finished in it."""
        recent = self._recent.get(route)
        return min(recent) if recent else 0.0

    def expected_wait(self, queued: int) -> float:
        """Seconds a request arriving now can expect to wait, with ``queued`` connections before it."""
        return queued * self.service_seconds / self.workers

    def retry_after(self, queued: int) -> int:
        """The expected wait in whole seconds, as Retry-After says it."""
        low, high = RETRY_AFTER_RANGE
        return max(low, min(high, math.ceil(self.expected_wait(queued))))
