"""Shared fixtures: settings, the Flask app and client, and a real gunicorn on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from imgopt import create_app
from imgopt.config import Settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def settings() -> Settings:
    """Default settings with a known token."""
    return Settings(api_token=TOKEN)


@pytest.fixture
def app(settings: Settings):
    """The app built from ``settings``."""
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    """Flask's test client for ``app``."""
    return app.test_client()


@pytest.fixture
def auth() -> dict[str, str]:
    """The Authorization header the tests' app accepts."""
    return {"Authorization": f"Bearer {TOKEN}"}


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

    def headers(self) -> dict[str, str]:
        """Authorization header for this server."""
        return {"Authorization": f"Bearer {self.token}"}

    def log(self) -> str:
        """Everything the server has printed so far."""
        return self.log_path.read_text(errors="replace")


def server_environment(port: int, **overrides: str) -> dict[str, str]:
    """The environment for a test gunicorn: a token, loopback, two workers, no stray .env."""
    env = {key: value for key, value in os.environ.items() if key not in {"PORT", "HOST"}}
    env.update(
        API_TOKEN=TOKEN,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="info",
    )
    env.update(overrides)
    return env


def start_gunicorn(tmp_dir: Path, **overrides: str) -> LiveServer:
    """Start gunicorn -c gunicorn.conf.py in ``tmp_dir`` (so no .env is read) and wait until it answers."""
    port = free_port()
    env = server_environment(port, **overrides)
    log_path = tmp_dir / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=tmp_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", env["API_TOKEN"], process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            if requests.get(f"{server.url}/ready", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    stop_gunicorn(server)
    raise RuntimeError(f"gunicorn did not become ready:\n{server.log()}")


def stop_gunicorn(server: LiveServer) -> None:
    """Stop gunicorn gracefully, then firmly."""
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One real gunicorn shared by the live tests."""
    server = start_gunicorn(tmp_path_factory.mktemp("live"))
    yield server
    stop_gunicorn(server)
