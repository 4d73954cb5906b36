"""Requests gunicorn refuses before the app sees them, answered in the service's JSON error shape.

gunicorn parses the request line and headers itself and answers what it cannot parse with an HTML page.
A Laravel client that branches on error codes would get no code and no request id, so the worker writes
the same JSON body the app writes (imgopt/http/error_handlers.py), with a code from imgopt.errors.
"""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus

from gunicorn.http import errors as gerrors

from imgopt.errors import ERROR_CODES
from imgopt.server.deadlines import HeaderTimeout

# gunicorn's parse errors by what the caller did; the first matching class wins.
PROTOCOL_ERRORS: tuple[tuple[type[BaseException], str], ...] = (
    (HeaderTimeout, "request_timeout"),
    (gerrors.LimitRequestLine, "request_line_too_long"),
    (gerrors.LimitRequestHeaders, "headers_too_large"),
    (gerrors.ExpectationFailed, "expectation_failed"),
    (gerrors.InvalidRequestLine, "malformed_request"),
    (gerrors.InvalidRequestMethod, "malformed_request"),
    (gerrors.InvalidHTTPVersion, "malformed_request"),
    (gerrors.InvalidHeaderName, "malformed_request"),
    (gerrors.InvalidHeader, "malformed_request"),
    (gerrors.ObsoleteFolding, "malformed_request"),
    (gerrors.UnsupportedTransferCoding, "malformed_request"),
    (gerrors.InvalidChunkSize, "malformed_request"),
    (gerrors.ChunkMissingTerminator, "malformed_request"),
    (gerrors.InvalidChunkExtension, "malformed_request"),
    (gerrors.InvalidSchemeHeaders, "malformed_request"),
    (gerrors.InvalidProxyLine, "malformed_request"),
    (gerrors.InvalidProxyHeader, "malformed_request"),
    (gerrors.ForbiddenProxyRequest, "malformed_request"),
    (gerrors.InvalidH2CPreface, "malformed_request"),
)

# gunicorn's response-side errors are the app's fault, as is anything unexpected.
RESPONSE_ERRORS = (gerrors.InvalidResponseHeader, gerrors.InvalidResponseHeaderName)


def protocol_error_code(error: BaseException) -> str:
    """The registered code for an error gunicorn raised while reading a request; internal_error when it is
    not the caller's doing."""
    if isinstance(error, RESPONSE_ERRORS):
        return "internal_error"
    for kind, code in PROTOCOL_ERRORS:
        if isinstance(error, kind):
            return code
    return "internal_error"


def describe(error: BaseException, code: str) -> str:
    """A short message for the caller, naming what was wrong (never more than 200 characters)."""
    if code == "internal_error":
        return "an unexpected error occurred; it has been logged"
    text = str(error).strip() or type(error).__name__
    if code == "request_timeout":
        return f"{text}; send it again"
    return f"the request could not be parsed: {text}"[:200]


def error_response(error: BaseException) -> tuple[int, str, bytes]:
    """(status, code, the whole HTTP/1.1 response) for an error gunicorn raised on a connection."""
    code = protocol_error_code(error)
    status = ERROR_CODES[code].status
    request_id = uuid.uuid4().hex
    body = json.dumps({"error": {"code": code, "message": describe(error, code), "request_id": request_id}})
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-Id: {request_id}\r\n\r\n"
    )
    return status, code, head.encode("latin-1") + body.encode()
