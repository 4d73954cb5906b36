"""The docs stay true: every curl example runs as written against the live server, and docs/laravel.md
shows the very client class the Laravel test runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from testing import images
from testing.server import ROOT

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = pytest.mark.live

CURL = shutil.which("curl")


def curl_examples(path: Path) -> list[str]:
    """Every curl command in the file's sh code blocks, continuation lines joined."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", path.read_text(), re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip().startswith("curl"):
                commands.append(command.strip())
    return commands


EXAMPLES = [(doc, command) for doc in ("README.md", "docs/api.md") for command in curl_examples(ROOT / doc)]


def test_the_docs_have_curl_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
@pytest.mark.parametrize(("doc", "command"), EXAMPLES, ids=[f"{d}:{i}" for i, (d, _c) in enumerate(EXAMPLES)])
def test_curl_examples_work_as_written(live_server, tmp_path, doc, command):
    (tmp_path / "photo.jpg").write_bytes(images.jpeg((1600, 1200)))
    runnable = command.replace("http://localhost:3000", live_server.url)
    completed = subprocess.run(
        ["bash", "-c", runnable],
        cwd=tmp_path,
        env={**os.environ, "TOKEN": live_server.token},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for output in re.findall(r"-o (\S+)", command):
        assert (tmp_path / output).stat().st_size > 0
        assert images.open_bytes((tmp_path / output).read_bytes()).format in ("WEBP", "AVIF")
    if "-o" not in command:
        assert completed.stdout.strip(), "an example without -o prints its answer"


def test_laravel_doc_shows_the_tested_client():
    tested = (ROOT / "tests/laravel/ImgoptClient.php").read_text()
    code = tested[tested.index("namespace App\\Services\\Imgopt;") :].strip()
    assert code in (ROOT / "docs/laravel.md").read_text()
