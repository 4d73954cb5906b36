"""One request's context: what its work asks between steps, and what it noticed on the way.

The orchestrator asks one question between its tasks (``check``): is the work still wanted, and is there time
left to finish it? It borrows idle cores through the context, and writes what it noticed (a malformed EXIF
block ignored, a smart crop that fell back to the centre) into its notes. The HTTP layer builds one context
per request from what the server knows; tests and benchmarks pass their own, or none (nothing to ask, no
threads lent, no deadline).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from imgopt.errors import ClientGone, DeadlineExceeded
from imgopt.imaging.parallel import Borrow, lend_none


@dataclass
class Deadline:
    """When the work must be done by (``time.monotonic`` seconds), and who set it, for the message."""

    at: float
    # Who waits no longer than this: "the caller's declared deadline", or "TIMEOUT".
    set_by: str


@dataclass
class RequestContext:
    """The still-wanted check, the deadline, the threads a request may borrow and its notes."""

    # True while somebody waits for the result; None: nobody can tell (no server around).
    still_wanted: Callable[[], bool] | None = None
    deadline: Deadline | None = None
    # Lends threads on idle cores for the duration (imgopt/imaging/parallel.py).
    borrow: Borrow = lend_none
    notes: list[str] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    def check(self) -> None:
        """Raise ClientGone once nobody waits for the result, DeadlineExceeded once its time is up: the rest
        of the work is not made."""
        if self.still_wanted is not None and not self.still_wanted():
            msg = "the client closed the connection; the rest of the request was not made"
            raise ClientGone(msg)
        if self.deadline is not None and self.clock() > self.deadline.at:
            msg = f"the request ran past {self.deadline.set_by}; the rest of it was not made"
            raise DeadlineExceeded(msg)

    def seconds_left(self) -> float | None:
        """Seconds until the deadline (negative once past), or None without one."""
        return None if self.deadline is None else self.deadline.at - self.clock()

    def note(self, note: str) -> None:
        """Something the work noticed that the request's log line should say."""
        self.notes.append(note)

    def unique_notes(self) -> tuple[str, ...]:
        """The notes, each once, in the order first noticed."""
        return tuple(dict.fromkeys(self.notes))
