"""clients/js (@imgopt/images): its own tests (Node's test runner) after a TypeScript build, with a live
service for the Astro image service's /convert. Skipped, saying why, without Node or the package's
development dependencies (`.ci/run` installs them with `npm ci --prefix clients/js`)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from testing import images
from testing.server import ROOT, start_gunicorn, stop_gunicorn

PACKAGE = ROOT / "clients" / "js"
NPM = shutil.which("npm")


def why_not() -> str | None:
    if NPM is None or shutil.which("node") is None:
        return "node and npm are not installed"
    if not (PACKAGE / "node_modules" / "typescript").is_dir():
        return "clients/js has no node_modules (npm ci --prefix clients/js; .ci/run does it)"
    return None


pytestmark = pytest.mark.skipif(why_not() is not None, reason=why_not() or "")


def test_the_packages_node_tests_pass_against_a_live_service(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(images.photo((800, 600)))
    server = start_gunicorn(tmp_path / "service")
    try:
        env = {
            **os.environ,
            "IMGOPT_URL": server.url,
            "IMGOPT_TOKEN": server.token,
            "IMGOPT_TEST_IMAGE": str(photo),
        }
        completed = subprocess.run(
            [NPM, "test"], cwd=PACKAGE, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    finally:
        stop_gunicorn(server)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "# fail 0" in completed.stdout and "# skipped 0" in completed.stdout, completed.stdout
