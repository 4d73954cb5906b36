"""Start and stop a real gunicorn from gunicorn.conf.py, for the tests, `make bench` and `make stress`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from testing.processes import spawn, stop_process

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A gunicorn started from gunicorn.conf.py, as `make run` starts it."""

    url: str
    token: str
    process: subprocess.Popen
    log_path: Path
    # The server's TMPDIR: empty unless something leaks a temporary file.
    tmp_dir: Path
    # The master's probe responder.
    health_url: str

    def headers(self) -> dict[str, str]:
        """Authorization header for this server."""
        return {"Authorization": f"Bearer {self.token}"}

    def log(self) -> str:
        """Everything the server has printed so far."""
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The master's current children, read from /proc."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]


def reset_peak(pid: int) -> None:
    """Start a new peak-RSS (VmHWM) measurement for a process (Linux: clear_refs 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def memory_of(pid: int) -> dict[str, float]:
    """Peak RSS (VmHWM), current RSS and PSS of a process, MiB, read from /proc."""
    facts: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            facts[key] = int(value.split()[0]) / 1024
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            facts["Pss"] = int(line.split()[1]) / 1024
    return facts


def server_environment(port: int, root: Path = ROOT, **overrides: str) -> dict[str, str]:
    """The environment for a test gunicorn: a token, loopback, two workers, no stray .env."""
    env = {key: value for key, value in os.environ.items() if key not in {"PORT", "HOST"}}
    env.update(
        API_TOKEN=TOKEN,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PYTHONPATH=str(root),
        LOG_LEVEL="info",
    )
    env.update(overrides)
    return env


def run_gunicorn_to_exit(work_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run gunicorn -c gunicorn.conf.py in the foreground, for a start that must fail; its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=work_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def start_gunicorn(work_dir: Path, root: Path = ROOT, **overrides: str) -> LiveServer:
    """Start gunicorn -c gunicorn.conf.py in ``work_dir`` (so no .env is read) and wait until it answers.

    ``root`` is the checkout to run (another one lets a benchmark compare two versions side by side).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server_tmp = work_dir / "tmp"
    server_tmp.mkdir(exist_ok=True)
    env = server_environment(
        port, root, **{"HEALTH_PORT": str(free_port()), "TMPDIR": str(server_tmp), **overrides}
    )
    log_path = work_dir / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = spawn(
            [sys.executable, "-m", "gunicorn", "-c", str(root / "gunicorn.conf.py")],
            cwd=work_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(
        f"http://127.0.0.1:{port}",
        env["API_TOKEN"],
        process,
        log_path,
        server_tmp,
        f"http://127.0.0.1:{env['HEALTH_PORT']}/health",  # the probe responder, when at a fixed port
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"gunicorn exited with {process.returncode}:\n{server.log()}"
            raise RuntimeError(msg)
        try:
            if requests.get(f"{server.url}/ready", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    stop_gunicorn(server)
    msg = f"gunicorn did not become ready:\n{server.log()}"
    raise RuntimeError(msg)


def stop_gunicorn(server: LiveServer) -> None:
    """Stop gunicorn gracefully, then firmly."""
    stop_process(server.process, grace_seconds=20)
