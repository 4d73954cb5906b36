"""A worker's memory as the operating system sees it, and glibc's levers to give freed heap back.

Pillow, libheif and the AV1 encoders allocate and free large blocks; glibc keeps freed heap (and an arena
per allocating thread) unless told otherwise. The worker (imgopt/server/worker.py) and gunicorn.conf.py use
these to keep a worker near its starting size (docs/operations.md: memory that comes back).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable


def rss_mib() -> float:
    """This process's resident set size in MiB (from /proc; 0 where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        return 0.0


def trim_heap() -> bool:
    """Return freed heap to the operating system (glibc's malloc_trim); False where there is no glibc."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


# mallopt's parameter number for the most malloc arenas (glibc's malloc.h).
M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int) -> bool:
    """Let glibc's malloc use at most ``arenas`` arenas; False where there is no glibc.

    Every thread that allocates (libheif's, the AV1 encoders') otherwise gets an arena of its own, whose
    freed memory a worker keeps. Call it before any thread starts: arenas that exist stay.
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    libc = _libc()
    function = getattr(libc, "malloc_trim", None) if libc is not None else None
    if function is None:
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function
