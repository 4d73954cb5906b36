"""Which of the machine's cores are in use right now, shared by every worker of one master.

A request that makes several renditions may run them on threads, one per core that no other request is
using at that moment (imgopt/imaging/parallel.py). The ledger is a small table in shared memory that the
master creates before it forks: one row per worker (its pid, whether it is computing, how many extra
threads it has borrowed), each row written only by its worker. The master gives each worker its row before
forking it and clears the row when the worker is gone, so a worker killed mid-request (the watchdog, OOM,
a crash) cannot leak the cores it had borrowed: the count heals as soon as the master reaps it.

Reading the sum is not atomic across rows; two requests that start in the same microsecond may both see
the same idle core and use it. Each marks itself busy before it looks, so that window is tiny, and at worst
a core is shared by two threads for one request's time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.sharedctypes import RawArray

# Row layout: pid (0: free), busy (0 or 1), borrowed (extra threads).
PID, BUSY, BORROWED = 0, 1, 2
ROW = 3


def core_count() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class CoreLedger:
    """The shared table, and this process's row in it."""

    def __init__(self, cores: int, rows: int) -> None:
        self.cores = cores
        self.rows = rows
        self._table = RawArray("q", rows * ROW)
        self._row: int | None = None

    @classmethod
    def for_workers(cls, workers: int, cores: int | None = None) -> CoreLedger:
        """A ledger for a master with ``workers`` workers: room for a recycled worker and its replacement
        to overlap."""
        return cls(cores or core_count(), 2 * workers + 2)

    @classmethod
    def for_this_process(cls, cores: int | None = None) -> CoreLedger:
        """A ledger of one row, already taken: a process that serves without gunicorn (tests, the Flask
        dev server) still borrows the cores it has."""
        ledger = cls(cores or core_count(), 1)
        ledger.join(ledger.assign(), os.getpid())
        return ledger

    # The master's side.
    def assign(self, placeholder_pid: int = -1) -> int:
        """Reserve a free row for a worker about to be forked; its index goes with the worker."""
        for row in range(self.rows):
            if self._table[row * ROW + PID] == 0:
                self._clear(row)
                self._table[row * ROW + PID] = placeholder_pid
                return row
        msg = "no free row in the core ledger"
        raise RuntimeError(msg)

    def release(self, row: int) -> None:
        """A worker is gone, however it went: forget what it was using."""
        self._clear(row)

    # The worker's side.
    def join(self, row: int, pid: int) -> None:
        """This process is the worker the row was assigned to."""
        self._row = row
        self._table[row * ROW + PID] = pid

    def in_use(self) -> int:
        """Cores computing now: each busy worker's own, plus every thread borrowed."""
        table = self._table
        return sum(table[row * ROW + BUSY] + table[row * ROW + BORROWED] for row in range(self.rows))

    @contextmanager
    def busy(self) -> Iterator[None]:
        """This worker computes (a decode, a set) for the duration."""
        if self._row is None:
            yield
            return
        self._table[self._row * ROW + BUSY] = 1
        try:
            yield
        finally:
            self._table[self._row * ROW + BUSY] = 0

    @contextmanager
    def borrow(self, wanted: int) -> Iterator[int]:
        """Up to ``wanted`` extra threads, as many as cores are idle now (0 when none is); given back on
        exit."""
        if self._row is None or wanted < 1:
            yield 0
            return
        taken = max(0, min(wanted, self.cores - self.in_use()))
        self._table[self._row * ROW + BORROWED] = taken
        try:
            yield taken
        finally:
            self._table[self._row * ROW + BORROWED] = 0

    def exposition(self) -> bytes:
        """The ledger as Prometheus gauges, read at scrape time from the shared table."""
        in_use = self.in_use()
        return (
            "# HELP imgopt_cores Cores the workers share.\n# TYPE imgopt_cores gauge\n"
            f"imgopt_cores {self.cores}\n"
            "# HELP imgopt_cores_in_use Cores computing now: busy workers plus the threads they borrowed.\n"
            f"# TYPE imgopt_cores_in_use gauge\nimgopt_cores_in_use {in_use}\n"
        ).encode()

    def _clear(self, row: int) -> None:
        for column in range(ROW):
            self._table[row * ROW + column] = 0


# The master's ledger, created by gunicorn.conf.py before the workers are forked (they inherit it).
_installed: CoreLedger | None = None


def install(ledger: CoreLedger) -> None:
    """Make ``ledger`` the one this master's workers use."""
    global _installed  # noqa: PLW0603  (set once in the master, before forking)
    _installed = ledger


def installed() -> CoreLedger | None:
    """The ledger gunicorn.conf.py installed, or None outside gunicorn."""
    return _installed
