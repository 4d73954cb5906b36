"""Shared fixtures: settings, the Flask app and client, and a real gunicorn on a loopback port."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from imgopt import create_app
from imgopt.config import Settings
from testing.processes import RUN_MARKER, left_by_run
from testing.server import TOKEN, LiveServer, start_gunicorn, stop_gunicorn


def pytest_configure(config: pytest.Config) -> None:
    """Mark this run: every process a test starts inherits the marker (testing/processes.py)."""
    os.environ[RUN_MARKER] = uuid.uuid4().hex


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a process it started is still alive once every fixture has stopped what it
    started (a server's workers left listening, a browser left open)."""
    left = left_by_run(os.environ[RUN_MARKER])
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("processes this test run started are still alive:", red=True)
            for line in left:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One real gunicorn shared by the live tests."""
    server = start_gunicorn(tmp_path_factory.mktemp("live"))
    yield server
    stop_gunicorn(server)
