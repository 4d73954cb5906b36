"""Bearer-token auth: checked from the header alone, before anything reads the body."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import request

from imgopt.errors import Unauthorized
from imgopt.http.request_facts import request_facts
from imgopt.http.runtime import runtime


def require_token(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the request with 401 unless it carries the bearer token; never touches the body."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        request_facts().token_index = check_token(
            request.headers.get("Authorization", ""), runtime().settings.api_tokens
        )
        return view(*args, **kwargs)

    return guarded


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
