"""The gunicorn worker's life: drain the queue on SIGTERM, give memory back, retire when too large.

A sync worker, subclassed: on SIGTERM gunicorn's own worker finishes its request and exits, and the
connections the kernel had already accepted into the listen backlog are reset when the last copy of the
listening socket closes. ``DrainingSyncWorker`` answers them first. ``after_request`` runs after every
response has been sent (gunicorn's ``post_request`` hook), so its work never delays a caller.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

from imgopt.server import deadlines, protocol_errors
from imgopt.server.connection import first_byte_arrival, stamp_arrivals
from imgopt.server.environ import DRAINING, with_connection_facts
from imgopt.server.memory import rss_mib, trim_heap

# Seconds kept back from gunicorn's graceful_timeout, so a drained worker exits before the master kills it.
DRAIN_MARGIN = 2.0


# A worker that has waited this long without a request, and is this far above its starting RSS, returns
# freed heap to the system. Under load the next request arrives within milliseconds, so this never runs.
IDLE_SECONDS = 0.25
IDLE_TRIM_ABOVE_MIB = 8


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker is told by the service's settings; gunicorn.conf.py's post_fork passes it in once."""

    # Seconds a client socket may wait for data (BODY_READ_TIMEOUT).
    client_timeout: float | None = None
    # Seconds from accept until the request head is parsed (HEADER_READ_TIMEOUT; 0 never).
    header_timeout: float = 0
    # Seconds the whole response may take to write (SEND_TIMEOUT; 0: only the per-write socket timeout).
    send_timeout: float = 0
    # Trim freed heap after a request when RSS is this far above the start (TRIM_ABOVE_MB; 0 never).
    trim_above_mib: int = 0
    # Retire the worker after a request that leaves RSS above this (MAX_WORKER_RSS_MB; 0 never).
    max_rss_mib: int = 0


class DrainingSyncWorker(SyncWorker):
    """A sync worker that, told to stop, answers every connection already queued before it exits; and whose
    client sockets time out, so a client that stops sending frees the worker instead of holding it.

    Requests gunicorn cannot parse, and heads that do not arrive within HEADER_READ_TIMEOUT, are answered in
    the service's JSON error shape (``handle_error``); every phase of a request has a bound
    (imgopt/server/deadlines.py).

    Settings arrive in one way: ``configure`` (from gunicorn.conf.py's post_fork). The five gunicorn methods
    overridden here (``wait``, ``accept``, ``handle_exit``, ``run``, ``handle_error``) are why setup.cfg pins
    gunicorn to the minor release the tests run on.
    """

    stop_requested_at: float | None = None
    worker_settings: WorkerSettings = WorkerSettings()
    # When the first byte of the connection in hand arrived (time.time()), as the kernel stamped it.
    arrival: float | None = None
    # RSS once ready (``record_start``); growth above it is what trimming returns.
    start_rss_mib: float = 0.0

    def configure(self, settings: WorkerSettings) -> None:
        """Take the worker's settings (called once, in the forked worker, before it serves)."""
        self.worker_settings = settings

    def record_start(self) -> None:
        """Remember the RSS of the ready worker (gunicorn's post_worker_init)."""
        self.start_rss_mib = rss_mib()

    def after_request(self) -> None:
        """After each response is sent (gunicorn's post_request): trim and retire as the settings say."""
        after_request(
            self,
            trim_above_mib=self.worker_settings.trim_above_mib,
            max_rss_mib=self.worker_settings.max_rss_mib,
            start_rss_mib=self.start_rss_mib,
        )

    def wait(self, timeout: float) -> Any:
        """No connection is waiting. If none comes within IDLE_SECONDS, give back freed heap first: trimming
        costs the next requests page faults, which a busy worker should not pay, and an idle one can."""
        if not self.start_rss_mib or rss_mib() <= self.start_rss_mib + IDLE_TRIM_ABOVE_MIB:
            return super().wait(timeout)
        ready = super().wait(min(timeout, IDLE_SECONDS))
        if not ready:
            trim_heap()
        return ready

    def accept(self, listener: Any) -> None:
        """Accept one connection and answer it, with the client timeout on its socket."""
        client, address = listener.accept()
        self.serve(listener, client, address)

    def serve(self, listener: Any, client: Any, address: Any) -> None:
        """Answer one accepted connection; its head must arrive within HEADER_READ_TIMEOUT."""
        self.arrival = first_byte_arrival(client)
        client.setblocking(True)
        client.settimeout(self.worker_settings.client_timeout)
        util.close_on_exec(client)
        deadlines.arm_header_deadline(self.worker_settings.header_timeout)
        try:
            self.handle(listener, client, address)
        except deadlines.HeaderTimeout:
            # The deadline passed while gunicorn lingered closing a connection it had already answered (an
            # unparseable head): nothing is left to say, and the worker must not die of it.
            self.log.debug("header deadline passed while closing an answered connection")
        finally:
            deadlines.disarm()

    def head_received(self) -> None:
        """gunicorn has parsed the request head (its pre_request hook): stop the head's clock, beat the
        heartbeat, so the body and the conversion have their whole shares of TIMEOUT."""
        deadlines.disarm()
        self.notify()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """Answer an error gunicorn raised on this connection (a malformed request line, headers or chunked
        body; a bug escaping the app) with the service's JSON error, logged in one line."""
        status, code, response = protocol_errors.error_response(exc)
        if code == "internal_error":
            self.log.exception("error handling a request", extra={"error_code": code})
        else:
            self.log.warning("refused a request: %s", exc, extra={"error_code": code, "status": status})
        try:
            util.write_nonblock(client, response)
        except Exception:  # the client has gone; there is nobody to tell
            self.log.debug("could not send the error response")

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: finish the request in hand (as gunicorn does), then drain instead of leaving."""
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        super().handle_exit(sig, frame)

    def run(self) -> None:
        """Serve as a sync worker; when stopped by SIGTERM, answer what is queued, then exit."""
        deadlines.install()
        for listener in self.sockets:
            if hasattr(listener, "sock"):
                stamp_arrivals(listener.sock)
        self.wsgi = with_connection_facts(
            self.wsgi,
            heartbeat=self.notify,
            listeners=self.sockets,
            send_timeout=self.worker_settings.send_timeout,
            arrival=lambda: self.arrival,
        )
        super().run()
        if self.stop_requested_at is not None:
            self.drain()

    def drain(self) -> None:
        """Accept and answer, without waiting for new arrivals, until the backlog is empty or time is up."""
        deadline = self.stop_requested_at + max(0.0, self.cfg.graceful_timeout - DRAIN_MARGIN)
        self.wsgi = mark_draining(self.wsgi)
        answered = 0
        while time.monotonic() < deadline:
            accepted = False
            for listener in self.sockets:
                try:
                    listener.setblocking(False)
                    client, address = listener.accept()
                except OSError as error:
                    if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED, errno.EBADF):
                        continue
                    raise
                accepted = True
                answered += 1
                self.notify()
                self.serve(listener, client, address)
            if not accepted:
                break
        if answered:
            self.log.info(
                "drained %s queued connection(s) before exiting", answered, extra={"drained": answered}
            )


def mark_draining(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Wrap the WSGI app so every request it serves while draining knows it."""

    def draining_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[DRAINING] = True
        return app(environ, start_response)

    return draining_app


def after_request(worker: Any, *, trim_above_mib: int, max_rss_mib: int, start_rss_mib: float) -> None:
    """After a response: give freed heap back if the worker has grown, and retire it if it is too large.

    ``trim_above_mib``: trim when RSS exceeds the worker's starting RSS by this much (0: never).
    ``max_rss_mib``: above this RSS, even after trimming, the worker exits gracefully and gunicorn starts a
    fresh one (0: never).
    """
    rss = rss_mib()
    if trim_above_mib and rss > start_rss_mib + trim_above_mib and trim_heap():
        trimmed = rss_mib()
        worker.log.debug(
            "returned freed heap to the system: RSS %.0f -> %.0f MiB",
            rss,
            trimmed,
            extra={"rss_mib_before": round(rss, 1), "rss_mib": round(trimmed, 1)},
        )
        rss = trimmed
    if max_rss_mib and rss > max_rss_mib and worker.alive:
        worker.alive = False
        worker.log.warning(
            "worker RSS %.0f MiB is over MAX_WORKER_RSS_MB=%d: restarting it after this request",
            rss,
            max_rss_mib,
            extra={"rss_mib": round(rss, 1), "max_worker_rss_mb": max_rss_mib},
        )
