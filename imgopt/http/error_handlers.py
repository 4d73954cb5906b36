"""The one place errors become responses: every failure is the same JSON shape with a registered code."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from imgopt.errors import HTTP_STATUS_CODES, ImgoptError, Overloaded, Unauthorized
from imgopt.http.request_facts import request_facts

logger = logging.getLogger("imgopt.views")

ROUTES = "POST /convert, POST /variants, POST /info, GET /health, GET /ready and GET /metrics"


def register_error_handlers(app: Flask) -> None:
    """Answer domain errors, Werkzeug's HTTP errors and bugs in JSON."""
    app.register_error_handler(ImgoptError, domain_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)


def domain_error(error: ImgoptError) -> Response:
    """Every domain error becomes the same JSON shape with its status."""
    response = error_response(error.status, error.code, error.message, auth=isinstance(error, Unauthorized))
    if isinstance(error, Overloaded):
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def http_error(error: HTTPException) -> Response:
    """Werkzeug's own errors (routing: 404, 405) in our JSON shape."""
    status = error.code or 500
    code = HTTP_STATUS_CODES.get(status, "http_error")
    message = error.description or error.name
    if status == 404:
        page = ", GET / (the playground)" if "playground" in current_app.blueprints else ""
        message = f"there is no {request.path}; the routes are {ROUTES}{page}"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.path}"
    response = error_response(status, code, message)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def unexpected_error(error: Exception) -> Response:
    """A genuine bug: log it with its traceback and request id, answer 500 in JSON."""
    logger.exception("unhandled error", extra={"request_id": g.get("request_id")})
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def error_response(status: int, code: str, message: str, *, auth: bool = False) -> Response:
    """The JSON error body every failure uses."""
    request_facts().error_code = code
    response = jsonify(error={"code": code, "message": message, "request_id": g.get("request_id")})
    response.status_code = status
    if auth:
        response.headers["WWW-Authenticate"] = 'Bearer realm="imgopt"'
    return response
