"""A Laravel app with spatie/laravel-medialibrary 11, given by MEDIALIBRARY_APP, put on imgopt as its README
says: a copy of it gets imgopt/laravel from clients/laravel (a Composer path repository), the service's URL
and token, and the one config line (IMAGE_DRIVER, which config/media-library.php reads), plus an article
model with conversions as a CMS writes them (testing/medialibrary/). The app is never changed in place.

medialibrary reaches us only through `fetch`, whose code is never committed: there is no such app in a clean
clone, and whatever needs one skips, saying why. The app must have a database queue (its jobs table) and
medialibrary's media table migrated, as every app using it does, and must install a path repository
offline (Composer runs without Packagist here).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from testing.laravel_app import COMPOSER, PACKAGE, PHP
from testing.server import ROOT

APP = os.environ.get("MEDIALIBRARY_APP", "")
FIXTURES = ROOT / "testing" / "medialibrary"
DRIVER = "Imgopt\\Laravel\\MediaLibrary\\ImgoptDriver"


def missing_app() -> str | None:
    """Why there is no medialibrary app to test against, or None."""
    if not APP:
        return "MEDIALIBRARY_APP is not set (a Laravel app with spatie/laravel-medialibrary 11 installed)"
    if PHP is None or COMPOSER is None:
        return "php or composer is not installed"
    if not (Path(APP) / "vendor" / "spatie" / "laravel-medialibrary").is_dir():
        return f"MEDIALIBRARY_APP={APP} has no vendor/spatie/laravel-medialibrary"
    return None


@dataclass
class MediaLibraryApp:
    """The copy, and the commands a developer types in it."""

    root: Path

    def run(self, *command: str, env: dict[str, str] | None = None, check: bool = True, timeout: float = 300):
        completed = subprocess.run(
            list(command),
            cwd=self.root,
            env={**os.environ, "COMPOSER_HOME": str(self.root / ".composer-home"), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            msg = (
                f"{' '.join(command)} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
            )
            raise AssertionError(msg)
        return completed

    def artisan(self, *arguments: str, env: dict[str, str] | None = None, check: bool = True):
        return self.run(PHP, "artisan", *arguments, "--no-interaction", env=env, check=check)

    def php(self, code: str, env: dict[str, str] | None = None) -> str:
        """Run PHP inside the booted app; what it returns."""
        encoded = base64.b64encode(code.encode()).decode()
        return self.run(PHP, str(FIXTURES / "eval.php"), str(self.root), encoded, env=env).stdout.strip()

    def json(self, code: str, env: dict[str, str] | None = None):
        return json.loads(self.php(f"return json_encode({code});", env=env).splitlines()[-1])

    def queue_worker(self, env: dict[str, str] | None = None) -> int:
        """One `queue:work --once` in a process of its own; its peak RSS in KiB (getrusage of the child)."""
        script = (
            "import resource, subprocess, sys; "
            "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        command = [sys.executable, "-c", script, PHP, "artisan", "queue:work", "--once", "--stop-when-empty"]
        return int(self.run(*command, env=env).stdout.strip())

    def set_env(self, **values: str) -> None:
        lines = [
            line for line in (self.root / ".env").read_text().splitlines() if line.split("=")[0] not in values
        ]
        (self.root / ".env").write_text(
            "\n".join([*lines, *(f"{key}={value}" for key, value in values.items())]) + "\n"
        )


def prepare(destination: Path, imgopt_url: str, token: str) -> MediaLibraryApp:
    """Copy the app, install imgopt/laravel and the article fixture, and point it at the service."""
    shutil.copytree(APP, destination, symlinks=True)
    app = MediaLibraryApp(destination)
    composer = json.loads((destination / "composer.json").read_text())
    composer.setdefault("repositories", []).insert(
        0, {"type": "path", "url": str(PACKAGE), "options": {"symlink": True}}
    )
    composer.setdefault("require", {})["imgopt/laravel"] = "*@dev"
    (destination / "composer.json").write_text(json.dumps(composer, indent=4))
    app.run(
        COMPOSER, "update", "imgopt/laravel", "--no-plugins", "--no-audit", "--no-interaction", timeout=180
    )
    app.artisan("package:discover")
    shutil.copy(FIXTURES / "ImgoptArticle.php", destination / "app" / "Models" / "ImgoptArticle.php")
    migrations = destination / "database" / "migrations"
    shutil.copy(
        FIXTURES / "create_imgopt_articles_table.php",
        migrations / "2026_12_01_000000_create_imgopt_articles_table.php",
    )
    app.set_env(IMGOPT_URL=imgopt_url, IMGOPT_TOKEN=token, IMAGE_DRIVER=DRIVER, QUEUE_CONNECTION="database")
    app.artisan("migrate", "--force")
    return app
