"""Shedding load by how long a request waited for a worker, not by how many requests wait.

A count cannot stand for a wait: eight queued thumbnails are 0.15 s of work, eight CMS sets 6 s. So a
worker judges the request it has just taken by its wait, which the kernel knows (how long ago its last byte
arrived; imgopt/server/connection.py), and serves it unless it is already stale:

- every request may wait up to MAX_QUEUE_WAIT (30 s by default: half the 60 s the Laravel package waits,
  leaving the other half for the work and the answer);
- a caller who has shown that it gives up sooner gets a shorter bound. When a worker finds a request whose
  client has left, it learns how long that caller waits (CoDel's sojourn time, read per caller): the
  shortest such wait in the last PATIENCE_MEMORY seconds, once seen PATIENCE_SAMPLES times, less twice the
  time a request takes, so that what is made is still wanted when it is done. Without it, a FIFO backlog
  under impatient callers converts exactly the requests whose callers are about to leave.

A stale request is refused with 503 and a Retry-After of the wait a request arriving now can expect. Callers
are told apart by their User-Agent. Each worker keeps its own watch: it sees about its share of the traffic.
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
# Callers remembered (the least recently seen is forgotten first).
MAX_CALLERS = 64
# A request that has waited less than this is always served: a bound never shrinks to nothing.
SHORTEST_BOUND = 0.25
# Weight of the newest request in the running mean of how long a request takes, and where it starts.
SERVICE_WEIGHT = 0.2
FIRST_SERVICE_SECONDS = 0.1
# Retry-After, in whole seconds.
RETRY_AFTER_RANGE = (1, 60)

WAITED_TOO_LONG = "waited_too_long"
CALLER_GIVES_UP_SOONER = "caller_gives_up_sooner"


@dataclass(frozen=True)
class Refusal:
    """Why a request is not served: its wait, the bound it passed, and when to come back."""

    reason: str
    waited: float
    bound: float
    retry_after: int


class QueueWatch:
    """One worker's view of the queue in front of it: how long requests take, and how long callers wait."""

    def __init__(self, max_wait: float, workers: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self.workers = max(1, workers)
        self.clock = clock
        self.service_seconds = FIRST_SERVICE_SECONDS
        self._abandoned: OrderedDict[str, deque[tuple[float, float]]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.max_wait > 0

    def judge(self, caller: str, waited: float, queued: int) -> Refusal | None:
        """A refusal for a request of ``caller`` that waited ``waited`` seconds with ``queued`` connections
        behind it, or None when it is to be served."""
        if not self.enabled:
            return None
        bound, reason = self.max_wait, WAITED_TOO_LONG
        patience = self.patience(caller)
        if patience is not None:
            learned = max(SHORTEST_BOUND, patience - 2 * self.service_seconds)
            if learned < bound:
                bound, reason = learned, CALLER_GIVES_UP_SOONER
        if waited <= bound:
            return None
        return Refusal(reason, waited, bound, self.retry_after(queued))

    def patience(self, caller: str) -> float | None:
        """The shortest wait after which ``caller``'s requests were found abandoned lately, or None."""
        seen = self._abandoned.get(caller)
        if seen is None:
            return None
        horizon = self.clock() - PATIENCE_MEMORY
        while seen and seen[0][0] < horizon:
            seen.popleft()
        if len(seen) < PATIENCE_SAMPLES:
            return None
        return min(waited for _at, waited in seen)

    def caller_left(self, caller: str, waited: float) -> None:
        """``caller`` closed its connection after waiting ``waited`` seconds for its answer."""
        seen = self._abandoned.setdefault(caller, deque(maxlen=32))
        self._abandoned.move_to_end(caller)
        seen.append((self.clock(), waited))
        while len(self._abandoned) > MAX_CALLERS:
            self._abandoned.popitem(last=False)

    def served(self, seconds: float) -> None:
        """A request was made in ``seconds``."""
        self.service_seconds += SERVICE_WEIGHT * (seconds - self.service_seconds)

    def expected_wait(self, queued: int) -> float:
        """Seconds a request arriving now can expect to wait, with ``queued`` connections before it."""
        return queued * self.service_seconds / self.workers

    def retry_after(self, queued: int) -> int:
        """The expected wait in whole seconds, as Retry-After says it."""
        low, high = RETRY_AFTER_RANGE
        return max(low, min(high, math.ceil(self.expected_wait(queued))))
