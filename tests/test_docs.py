"""The docs stay true: every curl example runs as written against the live server, and the Laravel
package's README shows PHP that parses, the config keys the package has and the command's options."""

from __future__ import annotations

import json
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
    (tmp_path / "logo.png").write_bytes(images.png((200, 80), "RGBA"))
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


PHP = shutil.which("php")
PACKAGE_README = ROOT / "clients" / "laravel" / "README.md"
# A README snippet is a fragment: statements, a class body or an array's items. It parses as one of these.
PHP_WRAPPINGS = (
    "<?php\n{code}\n",
    "<?php\nclass Snippet {{\n{code}\n}}\n",
    "<?php\n$snippet = [\n{code}\n];\n",
)


def php_parses(code: str, tmp_path: Path) -> bool:
    for index, wrapping in enumerate(PHP_WRAPPINGS):
        path = tmp_path / f"snippet-{index}.php"
        path.write_text(wrapping.format(code=code))
        if subprocess.run([PHP, "-l", str(path)], capture_output=True, check=False).returncode == 0:
            return True
    return False


@pytest.mark.skipif(PHP is None, reason="php is not installed (.ci/run installs php-cli)")
def test_every_php_snippet_of_the_package_readme_parses(tmp_path):
    blocks = re.findall(r"```php\n(.*?)```", PACKAGE_README.read_text(), re.S)
    assert len(blocks) >= 6
    for block in blocks:
        assert php_parses(block, tmp_path), block


@pytest.mark.skipif(PHP is None, reason="php is not installed (.ci/run installs php-cli)")
def test_the_package_readme_names_every_config_key_and_command_option():
    config = ROOT / "clients" / "laravel" / "config" / "imgopt.php"
    keys = subprocess.run(
        [
            PHP,
            "-r",
            f"function env($k, $d = null) {{ return $d; }} echo json_encode(array_keys(require '{config}'));",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    readme = PACKAGE_README.read_text()
    configure = readme[readme.index("## Configure") : readme.index("## Store a set")]
    for key in json.loads(keys):
        assert f"`{key}`" in configure, key
    command = (ROOT / "clients/laravel/src/Console/RegenerateCommand.php").read_text()
    options = re.findall(r"\{(--[a-z-]+)", command)
    assert options == ["--set", "--only-missing", "--concurrency"]
    for option in options:
        assert option in readme[readme.index("## Regenerate") :], option
