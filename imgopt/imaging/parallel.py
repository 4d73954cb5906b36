"""Running the independent pieces of one set (decodes, resizes, encodes) on a few threads.

Pillow's resampling and decoders, libwebp and libaom release the GIL while they work, so a request on an
idle machine can use idle cores: 2 threads make 2 WebP encodes in 0.54x the time of one after the other, 2
AVIF encodes in 0.7x (measured on the 2-core machine). How many threads a request gets is not decided here:
the caller lends them (``Borrow``), as many as cores are idle, and one thread runs everything in order,
exactly as before.

Tasks may add tasks (a decode adds the renditions made from it). With one thread they run depth first, so a
decode's renditions are made (and the decode released) before the next decode starts; with more, in the
order given, on whichever thread is free.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager

# Lends up to n extra threads for the duration; yields how many it lent (0 when the machine is busy).
Borrow = Callable[[int], AbstractContextManager[int]]

Task = Callable[[], None]


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


class TaskRunner:
    """Runs tasks on ``threads`` threads (1: the calling thread, depth first); ``submit`` may be called from
    a running task. The first error raised by a task is raised by ``run`` once the others have stopped."""

    def __init__(self, threads: int) -> None:
        self.threads = max(1, threads)
        self._stack: list[Task] = []
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future] = []
        self._lock = threading.Lock()

    def submit(self, task: Task) -> None:
        if self._pool is None:
            self._stack.append(task)
        else:
            with self._lock:
                self._futures.append(self._pool.submit(task))

    def submit_all(self, tasks: list[Task]) -> None:
        """Tasks to run in this order (on one thread: before anything submitted earlier)."""
        if self._pool is None:
            self._stack.extend(reversed(tasks))
        else:
            for task in tasks:
                self.submit(task)

    def run(self, tasks: list[Task]) -> None:
        if self.threads == 1:
            self.submit_all(tasks)
            while self._stack:
                self._stack.pop()()
            return
        with ThreadPoolExecutor(self.threads, thread_name_prefix="rendition") as pool:
            self._pool = pool
            self.submit_all(tasks)
            done = 0
            try:
                while True:
                    with self._lock:
                        if done == len(self._futures):
                            break
                        future = self._futures[done]
                    done += 1
                    future.result()
            except BaseException:
                with self._lock:
                    for future in self._futures:
                        future.cancel()
                raise
            finally:
                self._pool = None
