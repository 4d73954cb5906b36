"""Processes the tests and benchmarks start (gunicorn, a PHP server and its workers, Chromium): each in a
process group of its own, so that stopping it stops everything it started; and the check, after a test run,
that nothing the run started is still alive."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

# Every process a test run starts inherits this variable, with the run's id: what outlives the run is found
# by it (tests/conftest.py).
RUN_MARKER = "IMGOPT_TEST_RUN"


def spawn(command: list[str], **options: Any) -> subprocess.Popen:
    """Start ``command`` as the leader of a new process group (its children join the group)."""
    return subprocess.Popen(command, start_new_session=True, **options)


def stop_process(process: subprocess.Popen, grace_seconds: float) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``grace_seconds``; then whatever is left of
    its process group (a PHP server's workers, a browser's helpers) is killed too."""
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def left_by_run(run_id: str, grace_seconds: float = 5.0) -> list[str]:
    """Processes (pid and command line) still alive that carry this run's marker, after up to
    ``grace_seconds`` for ones already stopping to go."""
    deadline = time.monotonic() + grace_seconds
    while True:
        alive = _marked(f"{RUN_MARKER}={run_id}".encode())
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _marked(marker: bytes) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # exited, not yet reaped by its parent
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append(f"{entry.name}: {command.strip()[:120]}")
    return found
