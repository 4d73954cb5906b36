"""Bearer-token auth: checked from the header alone, first, before anything reads the body or judges the
request. A request without a valid token is answered 401 and changes nothing that another caller's
request depends on: it is not admitted, shed, learned from or read (beyond a small drain, so that a client
that sent a small upload reads the 401 rather than a reset)."""

from __future__ import annotations

import hmac

from flask import request

from imgopt.errors import Unauthorized
from imgopt.http.middleware import limit_drain
from imgopt.http.request_facts import request_facts
from imgopt.http.runtime import runtime

# What of a refused request's body is drained: enough for any thumbnail-sized upload, too little to hold a
# worker for more than a moment (a silent connection holds one for HEADER_READ_TIMEOUT anyway).
UNAUTHENTICATED_DRAIN_BYTES = 4 * 1024 * 1024
UNAUTHENTICATED_DRAIN_SECONDS = 1.0


def authenticate() -> None:
    """The API blueprint's first hook: which token the request carries, or 401 before anything else."""
    try:
        request_facts().token_index = check_token(
            request.headers.get("Authorization", ""), runtime().settings.api_tokens
        )
    except Unauthorized:
        limit_drain(request.environ, UNAUTHENTICATED_DRAIN_BYTES, UNAUTHENTICATED_DRAIN_SECONDS)
        raise


def check_token(header: str, tokens: tuple[str, ...]) -> int:
    """Which of the accepted tokens the Authorization header carries (its position, for the log; never the
    token). Every token is compared, each in constant time; raise Unauthorized when none matches."""
    scheme, _, offered = header.partition(" ")
    if scheme.lower() != "bearer" or not offered.strip():
        msg = "send the API token as 'Authorization: Bearer <token>'"
        raise Unauthorized(msg)
    offered_bytes = offered.strip().encode()
    matches = [hmac.compare_digest(offered_bytes, token.encode()) for token in tokens]
    if not any(matches):
        msg = "the API token is wrong"
        raise Unauthorized(msg)
    return matches.index(True)
