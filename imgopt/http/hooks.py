"""Request hooks: an id and a start time for every request, and its one log line and metrics at the end."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from imgopt.http.admission import learn_from
from imgopt.http.request_facts import RequestFacts, request_facts
from imgopt.http.runtime import runtime
from imgopt.server.logs import log_request

# A caller's X-Request-Id is echoed only when it is short and plain enough to be safe in logs and headers.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def register_hooks(app: Flask) -> None:
    """Run ``start_request`` and ``finish_request`` around every request of ``app``."""
    app.before_request(start_request)
    app.after_request(finish_request)


def start_request() -> None:
    """Give every request an id and a start time before anything else happens."""
    g.started = time.perf_counter()
    offered = request.headers.get("X-Request-Id", "")
    g.request_id = offered if SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
    g.facts = RequestFacts()


def finish_request(response: Response) -> Response:
    """Stamp the request id on the response and write the request's log line and metrics."""
    response.headers["X-Request-Id"] = g.get("request_id", "")
    facts = request_facts()
    if facts.declared_wait_s is not None:
        response.headers["Preference-Applied"] = f"wait={facts.declared_wait_s:g}"
    duration_ms = round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1)
    route = request.url_rule.rule if request.url_rule else "unmatched"
    level = log_level_of(response.status_code, facts.error_code)
    bytes_in = request.content_length or 0
    bytes_out = response.content_length or 0
    runtime().metrics.observe(
        route,
        response.status_code,
        duration_ms / 1000,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        output_format=facts.output_format or "",
        error_code=facts.error_code,
    )
    learn_from(response.status_code, duration_ms / 1000)
    log_request(
        level,
        "request",
        request_id=g.get("request_id"),
        method=request.method,
        path=request.path,
        status=response.status_code,
        duration_ms=duration_ms,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        **facts.log_fields(),
    )
    return response


def log_level_of(status: int, error_code: str | None) -> int:
    """A request line's level: error for a failure of ours, warning for load shed on purpose (a burst of 503
    overloaded is the service working as designed, not an alarm), info for everything else."""
    if error_code == "overloaded":
        return logging.WARNING
    return logging.ERROR if status >= 500 else logging.INFO
