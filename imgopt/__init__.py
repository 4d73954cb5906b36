"""imgopt: orient, resize, strip and re-encode uploaded images as WebP or AVIF over HTTP."""

from __future__ import annotations

import os

from flask import Flask

from imgopt.config import ConfigError, Settings
from imgopt.http import api, ops, playground
from imgopt.http.error_handlers import register_error_handlers
from imgopt.http.hooks import register_hooks
from imgopt.http.middleware import DrainUnreadBody
from imgopt.http.runtime import Runtime
from imgopt.imaging.source import register_plugins
from imgopt.server.logs import configure_logging

__all__ = ["ConfigError", "Settings", "create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app: settings read once (from the environment unless given), limits, routes, errors."""
    if settings is None:
        settings = Settings.from_env(os.environ)
    register_plugins()
    state = Runtime.from_settings(settings)
    problem = state.readiness_problem()
    if problem:
        msg = f"AVIF_CODEC={settings.avif_codec!r} cannot be used: {problem}"
        raise ConfigError(msg)
    configure_logging(settings.log_level)

    app = Flask(__name__, static_folder=None)
    app.json.sort_keys = False
    app.extensions["imgopt"] = state
    register_hooks(app)
    register_error_handlers(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(ops.bp)
    if settings.playground:
        app.register_blueprint(playground.bp)
    app.wsgi_app = DrainUnreadBody(app.wsgi_app, max_drain_bytes=4 * settings.max_upload_bytes)  # type: ignore[method-assign]
    return app
