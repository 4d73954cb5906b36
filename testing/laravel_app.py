"""A real Laravel 8.83 application built from Debian's packages, with clients/laravel installed through
Composer from a path repository: what tests/test_laravel_package.py and bench/laravel.py run the package in.

Debian ships the framework (php-laravel-framework) but no application skeleton, so testing/laravel_skeleton
holds the minimal one: artisan, bootstrap, the config files a queue, a database, views and disks need, Post
and Photo models that use the package's trait, a migration, routes, a Blade page and a PHPUnit test that uses
Imgopt::fake(). This copies it, adds composer.json and .env, installs the package and migrates.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testing.processes import spawn, stop_process
from testing.server import ROOT, free_port

PHP = shutil.which("php")
COMPOSER = shutil.which("composer")
# Debian's phpunit (.ci/run installs it); a Laravel developer's laptop has vendor/bin/phpunit instead.
PHPUNIT = shutil.which("phpunit")
WHY_NO_PHPUNIT = "phpunit is not on PATH (.ci/run installs Debian's phpunit)"
PACKAGE = ROOT / "clients" / "laravel"
SKELETON = Path(__file__).parent / "laravel_skeleton"
ILLUMINATE = Path("/usr/share/php/Illuminate")
FRAMEWORK_VERSION = "8.83.26"


def missing_tools() -> str | None:
    """Why the Laravel app cannot be built here, or None when it can."""
    if PHP is None:
        return "php is not installed (.ci/run installs php-cli and php-laravel-framework)"
    if COMPOSER is None or not (ILLUMINATE / "Foundation" / "Application.php").is_file():
        return "composer or php-laravel-framework is not installed (.ci/run installs them)"
    probe = subprocess.run(
        [PHP, "-r", "exit(extension_loaded('pdo_sqlite') && extension_loaded('curl') ? 0 : 1);"],
        check=False,
    )
    if probe.returncode != 0:
        return "php-sqlite3 or php-curl is missing (.ci/run installs them)"
    return None


@dataclass
class LaravelApp:
    """The app's folder and the commands a developer would type in it."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    server: subprocess.Popen | None = None
    url: str = ""

    def run(self, *command: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            list(command),
            cwd=self.root,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
            )
        return completed

    def artisan(
        self, *arguments: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess:
        return self.run(PHP, "artisan", *arguments, "--no-interaction", timeout=timeout, check=check)

    def php(self, code: str, timeout: float = 300) -> str:
        """Run PHP inside the booted application (there is no tinker in Debian): `php artisan app:eval`."""
        return self.artisan("app:eval", base64.b64encode(code.encode()).decode(), timeout=timeout).stdout

    def serve(self) -> str:
        """The app's own server (php -S with server.php, what `artisan serve` runs), on a free port."""
        port = free_port()
        self.server = spawn(
            [PHP, "-S", f"127.0.0.1:{port}", "-t", "public", "server.php"],
            cwd=self.root,
            env={**os.environ, **self.env, "PHP_CLI_SERVER_WORKERS": "4"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            stop_process(self.server, grace_seconds=10)  # and its PHP_CLI_SERVER_WORKERS
            self.server = None


def build_app(root: Path, imgopt_url: str, token: str, package: Path = PACKAGE) -> LaravelApp:
    """Write the skeleton, install the package with Composer offline, and migrate the SQLite database."""
    shutil.copytree(SKELETON, root, dirs_exist_ok=True)
    (root / "composer.json").write_text(json.dumps(_composer_json(package), indent=4))
    for folder in (
        "storage/app/public",
        "storage/app/uploads",
        "storage/framework/views",
        "storage/framework/cache/data",
        "storage/logs",
        "bootstrap/cache",
        "database",
    ):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "database" / "database.sqlite").touch()
    (root / ".env").write_text(
        "\n".join(
            [
                "APP_ENV=local",
                "APP_DEBUG=true",
                "APP_KEY=base64:" + base64.b64encode(b"k" * 32).decode(),
                f"DB_DATABASE={root / 'database' / 'database.sqlite'}",
                "QUEUE_CONNECTION=database",
                "FILESYSTEM_DRIVER=public",
                f"IMGOPT_URL={imgopt_url}",
                f"IMGOPT_TOKEN={token}",
                "",
            ]
        )
    )
    app = LaravelApp(
        root, env={"COMPOSER_HOME": str(root / ".composer-home"), "COMPOSER_NO_INTERACTION": "1"}
    )
    app.run(COMPOSER, "update", "--no-plugins", "--no-audit", "--no-interaction", "--quiet", timeout=120)
    app.artisan("package:discover")
    app.artisan("vendor:publish", "--tag=imgopt-config")
    app.artisan("queue:table")
    app.artisan("queue:failed-table")
    app.artisan("migrate", "--force")
    (root / "public" / "storage").symlink_to(root / "storage" / "app" / "public")
    return app


def _composer_json(package: Path) -> dict:
    """The app's composer.json: the package from its folder, offline, with Debian's framework provided."""
    provided = {"laravel/framework": FRAMEWORK_VERSION, "guzzlehttp/guzzle": "7.4.5"}
    for folder in sorted(ILLUMINATE.iterdir()):
        if folder.is_dir():
            provided["illuminate/" + folder.name.lower()] = FRAMEWORK_VERSION
    return {
        "name": "imgopt/test-app",
        "type": "project",
        "require": {"php": "^8.0", "imgopt/laravel": "*@dev"},
        "provide": provided,
        "repositories": [
            {"type": "path", "url": str(package), "options": {"symlink": True}},
            {"packagist.org": False},
        ],
        "autoload": {"psr-4": {"App\\": "app/"}},
        "minimum-stability": "dev",
        "prefer-stable": True,
    }
