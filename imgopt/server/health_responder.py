"""A tiny probe responder that runs in the gunicorn master, beside the sync workers.

Sync workers answer one request at a time, so while every worker encodes an AVIF, ``GET /health`` on the
main port waits in the queue. Orchestrators (Coolify, Docker, Kubernetes) restart a container whose probe
keeps timing out, which would drop every conversion in flight. This responder lives in a thread of the
master process, which does no image work, so it answers at once. It reports on the master and on every
worker: a worker whose heartbeat is older than gunicorn's timeout is about to be killed, and a service with
no live worker cannot convert, so either makes the probe fail with 503.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Report = Callable[[], tuple[int, dict[str, Any]]]


def worker_report(
    arbiter: Any, expected_workers: int, timeout: float, version: str
) -> tuple[int, dict[str, Any]]:
    """Status code and JSON body describing the master and its workers, read from gunicorn's arbiter."""
    now = time.monotonic()
    workers = []
    for _attempt in range(3):  # the arbiter may change WORKERS while we copy it
        try:
            workers = list(arbiter.WORKERS.items())
            break
        except RuntimeError:
            continue
    ages = []
    for pid, worker in workers:
        try:
            ages.append((pid, max(0.0, now - worker.tmp.last_update())))
        except (OSError, ValueError):
            ages.append((pid, float("inf")))
    live = [age for _pid, age in ages if age < timeout]
    healthy = bool(live)
    body = {
        "status": "ok" if healthy else "unavailable",
        "version": version,
        "master_pid": os.getpid(),
        "workers_expected": expected_workers,
        "workers_alive": len(live),
        # Seconds since each worker last reported; a busy sync worker reports again when its request ends.
        "worker_heartbeat_age_seconds": {str(pid): round(age, 1) for pid, age in ages if age != float("inf")},
    }
    return (200 if healthy else 503), body


class _Handler(BaseHTTPRequestHandler):
    report: Report

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] not in ("/health", "/"):
            self._send(404, {"error": {"code": "not_found", "message": "this port serves GET /health only"}})
            return
        status, body = self.report()
        self._send(status, body)

    def do_HEAD(self) -> None:
        status, _body = self.report()
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds: keep logs quiet
        return


class HealthResponder:
    """Serve ``report()`` on host:port from a daemon thread."""

    def __init__(self, host: str, port: int, report: Report) -> None:
        handler = type("Handler", (_Handler,), {"report": staticmethod(report)})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="health-responder", daemon=True)

    @property
    def port(self) -> int:
        """The port actually bound (useful when asked for port 0)."""
        return self.server.server_address[1]

    def start(self) -> None:
        """Start answering."""
        self.thread.start()

    def close_in_child(self) -> None:
        """In a forked worker: close the inherited listening socket; the thread was not forked."""
        self.server.socket.close()
