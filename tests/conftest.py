"""Shared fixtures: settings, the Flask app and client, and a real gunicorn on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from imgopt import create_app
from imgopt.config import Settings
from testing.server import TOKEN, LiveServer, start_gunicorn, stop_gunicorn


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
