"""The playground page: there only when PLAYGROUND is on, self-contained, and no way around the token."""

from __future__ import annotations

import re

import pytest
import yaml

from imgopt import create_app
from imgopt.config import Settings
from imgopt.http.playground import FILES
from testing.server import ROOT, TOKEN


@pytest.fixture
def playground_client():
    return create_app(Settings(api_token=TOKEN, playground=True)).test_client()


def test_the_page_is_absent_with_the_default_settings(client):
    response = client.get("/")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert client.get("/playground/app.js").status_code == 404


def test_the_docker_image_and_compose_leave_it_off():
    assert "PLAYGROUND" not in (ROOT / "Dockerfile").read_text()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["imgopt"]["environment"]["PLAYGROUND"] == "false"


def test_make_runs_env_turns_it_on():
    assert re.search(r"^PLAYGROUND=true$", (ROOT / ".env.example").read_text(), re.MULTILINE)


def test_the_page_asks_for_the_token_and_a_file(playground_client):
    response = playground_client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert '<input type="password" name="token"' in page
    assert 'type="file"' in page
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name", sorted(set(FILES) - {"index.html"}))
def test_every_file_the_page_needs_is_served_by_the_service(playground_client, name):
    response = playground_client.get(f"/playground/{name}")
    assert response.status_code == 200
    assert response.content_type == FILES[name]


@pytest.mark.parametrize("name", sorted(FILES))
def test_nothing_is_loaded_from_elsewhere(playground_client, name):
    path = "/" if name == "index.html" else f"/playground/{name}"
    text = playground_client.get(path).get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    assert "localStorage" not in text, "the token is kept in sessionStorage only"


@pytest.mark.parametrize("path", ["/playground/../config.py", "/playground/__init__.py", "/playground/x.js"])
def test_only_the_pages_own_files_are_served(playground_client, path):
    assert playground_client.get(path).status_code == 404


def test_the_page_is_no_way_around_the_token(playground_client):
    response = playground_client.post("/variants", data={"variants": "[]"})
    assert response.status_code == 401
