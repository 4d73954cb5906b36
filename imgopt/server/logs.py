"""Structured logging: one JSON object per line, for our request log and gunicorn's own messages.

Nothing here ever receives the bearer token or image bytes; callers pass only the facts listed in
``log_request``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

REQUEST_LOGGER = "imgopt.request"
# LogRecord attributes that are plumbing, not facts worth a JSON key.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: time, level, logger, message, then any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"))


def configure_logging(level: str) -> None:
    """Send the ``imgopt`` loggers to stdout as JSON at ``level``; idempotent."""
    logger = logging.getLogger("imgopt")
    logger.setLevel(level.upper())
    if not any(getattr(handler, "_imgopt", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        handler._imgopt = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False


def log_request(level: int, message: str, **facts: Any) -> None:
    """Write the one line that describes a finished request."""
    facts["pid"] = os.getpid()
    logging.getLogger(REQUEST_LOGGER).log(level, message, extra=facts)


def gunicorn_logconfig(level: str) -> dict[str, Any]:
    """A logging dictConfig that gives gunicorn's own loggers the same JSON shape."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "imgopt.server.logs.JsonFormatter"}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["stdout"], "level": level.upper(), "propagate": False},
            # The app writes the access log itself (one richer line per request); silence gunicorn's copy.
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
        "root": {"handlers": ["stdout"], "level": "WARNING"},
    }
