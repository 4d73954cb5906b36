"""Running the independent pieces of one set (decodes, resizes, encodes) on a few threads.

Pillow's resampling and decoders, libwebp and libaom release the GIL while they work, so a request on an
idle machine can use idle cores: 2 threads make 2 WebP encodes in 0.54x the time of one after the other, 2
AVIF encodes in 0.7x (measured on the 2-core machine). How many threads a request gets is not decided here:
the caller lends them (``Borrow``), as many as cores are idle, and one thread runs everything in order,
exactly as before.

Tasks may add tasks (a decode adds its resizes, a resize the encodes made from it). With one thread they run
depth first, so a decode's renditions are made (and the decode released) before the next decode starts;
with more, the one leading to the most work first, on whichever thread is free.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import Generic, TypeVar

# Lends up to n extra threads for the duration; yields how many it lent (0 when the machine is busy).
Borrow = Callable[[int], AbstractContextManager[int]]

Task = Callable[[], None]
T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def lend_none(_wanted: int) -> Iterator[int]:
    """A Borrow that never lends: everything on the calling thread."""
    yield 0


def lend_up_to(extra: int) -> Borrow:
    """A Borrow that always lends up to ``extra`` threads (benchmarks and tests in one process)."""

    @contextmanager
    def borrow(wanted: int) -> Iterator[int]:
        yield max(0, min(extra, wanted))

    return borrow


def _nothing() -> None:
    return None


class TaskRunner:
    """Runs tasks on ``threads`` threads (1: the calling thread, depth first); ``submit`` may be called from
    a running task. With several threads, a free thread takes the task of highest ``priority`` (the work it
    leads to: the largest first, so that the last to finish is a short one), in submission order among
    equals. ``before_each`` is called before every task, on its thread: what it raises stops the run as
    the task's own error would. The first error raised by a task is raised by ``run`` once the running ones
    have stopped; the waiting ones are dropped."""

    def __init__(self, threads: int, before_each: Callable[[], None] | None = None) -> None:
        self.threads = max(1, threads)
        self._before_each = before_each or _nothing
        self._stack: list[Task] = []
        self._heap: list[tuple[float, int, Task]] = []
        self._count = itertools.count()
        self._running = 0
        self._error: BaseException | None = None
        self._ready = threading.Condition()

    def submit(self, task: Task, priority: float = 0.0) -> None:
        if self.threads == 1:
            self._stack.append(task)
            return
        with self._ready:
            if self._error is None:
                heapq.heappush(self._heap, (-priority, next(self._count), task))
                self._ready.notify()

    def submit_all(self, tasks: list[Task], priorities: list[float] | None = None) -> None:
        """Tasks to run: on one thread in this order, before anything submitted earlier; on several, by
        ``priorities`` (all 0 when not given: in this order)."""
        if self.threads == 1:
            self._stack.extend(reversed(tasks))
            return
        for task, priority in zip(tasks, priorities or [0.0] * len(tasks), strict=True):
            self.submit(task, priority)

    def run(self, tasks: list[Task], priorities: list[float] | None = None) -> None:
        if self.threads == 1:
            self.submit_all(tasks)
            while self._stack:
                task = self._stack.pop()
                self._before_each()
                task()
            return
        self.submit_all(tasks, priorities)
        helpers = [
            threading.Thread(target=self._work, name=f"rendition-{index}")
            for index in range(self.threads - 1)
        ]
        for helper in helpers:
            helper.start()
        self._work()
        for helper in helpers:
            helper.join()
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        """Take tasks until none is waiting and none is running (a running one may still add some)."""
        while True:
            with self._ready:
                while not self._heap and self._running:
                    self._ready.wait()
                if not self._heap:
                    self._ready.notify_all()
                    return
                _priority, _order, task = heapq.heappop(self._heap)
                self._running += 1
            try:
                self._before_each()
                task()
            except BaseException as error:  # run() raises it
                with self._ready:
                    if self._error is None:
                        self._error = error
                    self._heap.clear()
            finally:
                with self._ready:
                    self._running -= 1
                    self._ready.notify_all()


class Helpers:
    """Threads lent to one rendition's own work (quality=auto's probes and scores), as a context manager.
    ``map`` splits a list of calls between the calling thread and the helpers and gives the results in
    order; ``ahead`` starts a call on a helper, to be collected (or run then, with no helper) by ``result``.
    With no helper everything runs on the calling thread, in order: what is computed never depends on how
    many threads there were, only when it is done."""

    def __init__(self, count: int) -> None:
        self.count = max(0, count)
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Helpers:
        if self.count:
            self._pool = ThreadPoolExecutor(self.count, thread_name_prefix="helper")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map(self, call: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if self._pool is None or len(items) < 2:
            return [call(item) for item in items]
        # Every other item to a helper, from the second: the calling thread takes the first at once.
        theirs = {
            index: Ahead(partial(call, items[index]), self._pool.submit(call, items[index]))
            for index in range(1, len(items), 2)
        }
        ours = {index: call(items[index]) for index in range(0, len(items), 2)}
        return [ours[index] if index in ours else theirs[index].result() for index in range(len(items))]

    def ahead(self, call: Callable[[], R]) -> Ahead[R]:
        return Ahead(call, self._pool.submit(call) if self._pool is not None else None)


class Ahead(Generic[R]):
    """A call handed to a helper (or to none): ``result`` waits for it, or makes it on the calling thread
    when no helper has started it (none was lent, or the helpers are still busy with something else)."""

    def __init__(self, call: Callable[[], R], future: Future[R] | None) -> None:
        self._call = call
        self._future = future

    def result(self) -> R:
        if self._future is None or self._future.cancel():
            self._future = None
            return self._call()
        return self._future.result()


NO_HELPERS = Helpers(0)
