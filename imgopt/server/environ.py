"""What the gunicorn worker tells the app about a request, through WSGI environ keys, and the wrapper that
puts it there."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from imgopt.server.connection import peer_has_closed, queued_connections, waited_seconds
from imgopt.server.deadlines import SendDeadline
from imgopt.server.request_body import direct_reader

# Set by a worker that is shutting down (imgopt/server/worker.py) on the requests it still answers.
DRAINING = "imgopt.draining"

# A callable that beats the worker's heartbeat: the app calls it at phase boundaries (the body is read).
HEARTBEAT = "imgopt.heartbeat"

# A callable: True once the client has closed its side of the connection (its FIN is queued).
CLIENT_GONE = "imgopt.client_gone"

# A callable: how many connections wait in the listen backlog for a worker.
QUEUED = "imgopt.queued"

# A callable: seconds since the request's first byte arrived (how long it has waited for a worker), or None.
WAITED = "imgopt.waited"

# A callable filling a memoryview from a body of known length straight from the socket
# (server/request_body.py); absent when the body is chunked.
READ_INTO = "imgopt.read_into"


def with_connection_facts(
    app: Callable[..., Iterable[bytes]],
    *,
    heartbeat: Callable[[], None],
    listeners: list[Any],
    send_timeout: float,
    arrival: Callable[[], float | None] = lambda: None,
) -> Callable[..., Iterable[bytes]]:
    """Wrap the WSGI app: each request can beat the worker's heartbeat, ask whether its client has gone, how
    long it has waited (since ``arrival()``, the connection's first byte, else since its last) and how many
    connections wait behind it; its response is written within ``send_timeout``."""

    def queued() -> int:
        return sum(queued_connections(listener.sock) for listener in listeners if hasattr(listener, "sock"))

    def app_with_facts(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        environ[HEARTBEAT] = heartbeat
        environ[QUEUED] = queued
        if sock is not None:
            environ[CLIENT_GONE] = lambda: peer_has_closed(sock)
            arrived = arrival()
            environ[WAITED] = (
                (lambda: max(0.0, time.time() - arrived))
                if arrived is not None
                else (lambda: waited_seconds(sock))
            )
            read_into = direct_reader(environ.get("wsgi.input"), sock)
            if read_into is not None:
                environ[READ_INTO] = read_into
        body = app(environ, start_response)
        if sock is None or not send_timeout:
            return body
        return SendDeadline(body, sock, send_timeout, sock.gettimeout())

    return app_with_facts
