"""What the kernel says of a live server's port, and waiting for it: tests synchronise with the server's real
state (connections a worker has taken, connections waiting in the listen backlog, log lines written), never
with a sleep that guesses how long the machine takes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# /proc/net/tcp's state column.
ESTABLISHED = "01"
LISTEN = "0A"


def _rows(port: int) -> list[tuple[str, int]]:
    """(state, rx_queue) of every loopback socket whose local port is ``port``."""
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if int(local.rsplit(":", 1)[1], 16) == port:
                rows.append((state, int(queues.split(":")[1], 16)))
    return rows


def queued(port: int) -> int:
    """Connections the kernel has accepted on ``port`` that no worker has taken yet (for a listening socket,
    /proc/net/tcp's rx_queue is its accept queue)."""
    return sum(rx for state, rx in _rows(port) if state == LISTEN)


def taken(port: int) -> int:
    """Connections to ``port`` that a worker has taken: established, and no longer in the accept queue."""
    established = sum(1 for state, _rx in _rows(port) if state == ESTABLISHED)
    return established - queued(port)


def wait_until(condition: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    """Poll ``condition`` until it gives something true, and return it; fail naming ``what`` after
    ``timeout`` seconds (a bound for a broken server, never a guess at how fast this machine is)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            msg = f"waited {timeout:.0f} s for {what}"
            raise AssertionError(msg)
        time.sleep(0.02)
