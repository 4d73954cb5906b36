"""WSGI middleware that keeps callers from seeing reset connections."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from imgopt.server.deadlines import within

CHUNK = 256 * 1024
# The whole drain must end within this many seconds: a client still sending after that is cut off (it may
# then see a reset), so that no refusal holds a worker for long.
DRAIN_SECONDS = 5.0


# Set in the environ to drain less: (bytes, seconds) at most. (0, 0) when the client is stalled (reading the
# body timed out) or gone, and nothing is worth draining; less for a caller without a token.
DRAIN_LIMIT = "imgopt.drain_limit"
NOTHING = (0, 0.0)


def limit_drain(environ: dict[str, Any], max_bytes: int, seconds: float) -> None:
    """Drain at most ``max_bytes`` of this request's unread body, within ``seconds``: past either, the client
    may see a reset rather than the answer."""
    environ[DRAIN_LIMIT] = (max_bytes, seconds)


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
        """Consume the rest of wsgi.input, up to the cap (or the request's own, ``limit_drain``)."""
        try:
            claimed = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return
        budget, seconds = environ.get(DRAIN_LIMIT, (self.max_drain_bytes, DRAIN_SECONDS))
        if claimed > budget or not budget:
            return
        stream = environ.get("wsgi.input")
        if stream is None:
            return
        try:
            with within(seconds):
                while budget > 0:
                    chunk = stream.read(min(CHUNK, budget))
                    if not chunk:
                        return
                    budget -= len(chunk)
        except (
            Exception
        ):  # a stalled or slow client (TimeoutError), a gone one, or framing the reader refuses
            return
