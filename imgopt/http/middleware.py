"""WSGI middleware that keeps callers from seeing reset connections."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from imgopt.server.deadlines import within

CHUNK = 256 * 1024
# The whole drain must end within this many seconds: a client still sending after that is cut off (it may
# then see a reset), so that no refusal holds a worker for long.
DRAIN_SECONDS = 5.0


# Set in the environ when the client is stalled (reading the body timed out) or gone: nothing to drain.
NOTHING_TO_DRAIN = "imgopt.nothing_to_drain"


class DrainUnreadBody:
    """Read and discard whatever request body the app left unread, before the response goes out.

    A sync gunicorn worker closes the socket after each response. If the client is still sending (a 413 or
    401 answered before the body was read), closing with unread bytes makes the kernel send a RST, and
    curl (Laravel's transport) reports "connection reset" instead of our JSON error. Draining first lets the
    client finish sending and then read the answer (a 503 under overload too). Bodies claiming more than
    ``max_drain_bytes`` are not drained: for those a reset is the cheaper outcome; nor bodies of clients that
    stalled or left.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], max_drain_bytes: int) -> None:
        self.app = app
        self.max_drain_bytes = max_drain_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = self.app(environ, start_response)
        self.drain(environ)
        return response

    def drain(self, environ: dict[str, Any]) -> None:
        """Consume the rest of wsgi.input, up to the cap."""
        try:
            claimed = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return
        if claimed > self.max_drain_bytes or environ.get(NOTHING_TO_DRAIN):
            return
        stream = environ.get("wsgi.input")
        if stream is None:
            return
        budget = self.max_drain_bytes
        try:
            with within(DRAIN_SECONDS):
                while budget > 0:
                    chunk = stream.read(min(CHUNK, budget))
                    if not chunk:
                        return
                    budget -= len(chunk)
        except (
            Exception
        ):  # a stalled or slow client (TimeoutError), a gone one, or framing the reader refuses
            return
