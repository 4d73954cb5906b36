"""Starting the service as a newcomer does: a port already taken is one line naming its variable, the probe
responder can take any free port, and `make run` prints a link that opens the playground with the token."""

from __future__ import annotations

import re
import socket

import pytest
import requests

from imgopt.server.startup import local_link, taken_port
from testing.server import (
    TOKEN,
    free_port,
    run_gunicorn_to_exit,
    server_environment,
    start_gunicorn,
    stop_gunicorn,
)


@pytest.fixture
def occupied():
    """A port another program listens on (a second imgopt, a Next.js dev server on 3001)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_a_free_port_is_not_reported():
    assert taken_port("127.0.0.1", {"PORT": free_port(), "HEALTH_PORT": None}) is None


def test_a_taken_port_is_named_by_its_variable(occupied):
    problem = taken_port("127.0.0.1", {"PORT": free_port(), "HEALTH_PORT": occupied})
    assert problem.startswith(f"HEALTH_PORT={occupied} is already in use on 127.0.0.1")
    assert "auto (any free port)" in problem


@pytest.mark.parametrize(
    ("host", "playground", "expected"),
    [
        ("127.0.0.1", True, "open http://127.0.0.1:3000/#token=secret "),
        ("0.0.0.0", True, "open http://127.0.0.1:3000/#token=secret "),
        ("::1", True, "open http://[::1]:3000/#token=secret "),
        ("127.0.0.1", False, "PLAYGROUND is off; try http://127.0.0.1:3000/health"),
    ],
)
def test_the_local_link_opens_the_playground_with_the_token_in_its_fragment(host, playground, expected):
    link = local_link(host, 3000, playground=playground, token="secret")
    assert expected in link
    if not playground:
        assert "secret" not in link


@pytest.mark.live
@pytest.mark.parametrize("variable", ["PORT", "HEALTH_PORT"])
def test_a_port_in_use_stops_the_start_with_one_line_naming_it(tmp_path, occupied, variable):
    ports = {"PORT": str(free_port()), "HEALTH_PORT": str(free_port()), variable: str(occupied)}
    env = server_environment(int(ports["PORT"]), HEALTH_PORT=ports["HEALTH_PORT"])
    completed = run_gunicorn_to_exit(tmp_path, env)
    assert completed.returncode != 0
    output = (completed.stdout + completed.stderr).strip()
    assert "Traceback" not in output
    assert "Retrying" not in output  # gunicorn's own five seconds of retries never start
    assert output.splitlines()[-1] == (
        f"imgopt: {variable}={occupied} is already in use on 127.0.0.1 (another imgopt, or another server?); "
        f"stop it, or set {variable} to a free port"
        + (", auto (any free port) or 0 (off)" if variable == "HEALTH_PORT" else "")
    )


@pytest.mark.live
def test_health_port_auto_takes_a_free_port_and_says_which(tmp_path):
    server = start_gunicorn(tmp_path, HEALTH_PORT="auto")
    try:
        port = int(re.search(r"health responder listening on 127\.0\.0\.1:(\d+)", server.log())[1])
        assert port not in (0, 3001)
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["status"] == "ok"
    finally:
        stop_gunicorn(server)


@pytest.mark.live
def test_a_local_run_prints_the_playground_link_and_a_deployed_one_never_prints_the_token(tmp_path):
    local = start_gunicorn(tmp_path / "local", PLAYGROUND="true", IMGOPT_LOCAL_RUN="1")
    deployed = start_gunicorn(tmp_path / "deployed", PLAYGROUND="true")
    try:
        link = re.search(r"open (http://\S+) \(the playground", local.log())[1]
        assert link == f"{local.url}/#token={TOKEN}"
        assert requests.get(link, timeout=5).status_code == 200  # the fragment never reaches the server
        assert TOKEN not in deployed.log()
    finally:
        stop_gunicorn(local)
        stop_gunicorn(deployed)
