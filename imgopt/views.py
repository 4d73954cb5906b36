"""The HTTP face of the service: auth, /convert, /health, /ready, and the one place errors become JSON."""

from __future__ import annotations

import base64
import functools
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import pipeline, renditions
from .errors import BadRequest, ImgoptError, RequestTimeout, Unauthorized
from .logs import log_request
from .middleware import BODY_TIMED_OUT, DRAINING
from .options import parse_options
from .renditions import RenditionSet
from .runtime import Runtime
from .uploads import boundary_of, parse_multipart, read_body
from .variants import parse_variants

bp = Blueprint("imgopt", __name__)

# A caller's X-Request-Id is echoed only when it is short and plain enough to be safe in logs and headers.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    415: "unsupported_format",
}
logger = logging.getLogger("imgopt.views")


# The whole upload must arrive within this share of TIMEOUT, so that a slow or trickling client gets 408
# long before gunicorn's worker timeout would kill the worker; the conversion has the rest.
BODY_SHARE_OF_TIMEOUT = 1 / 3


def runtime() -> Runtime:
    """The app's settings and state, built once in create_app."""
    return current_app.extensions["imgopt"]


@bp.before_app_request
def start_request() -> None:
    """Give every request an id and a start time before anything else happens."""
    g.started = time.perf_counter()
    offered = request.headers.get("X-Request-Id", "")
    g.request_id = offered if SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
    g.facts = {}


@bp.after_app_request
def finish_request(response: Response) -> Response:
    """Stamp the request id on the response and write the request's log line."""
    response.headers["X-Request-Id"] = g.get("request_id", "")
    duration_ms = round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1)
    level = logging.ERROR if response.status_code >= 500 else logging.INFO
    route = request.url_rule.rule if request.url_rule else "unmatched"
    facts = g.get("facts", {})
    runtime().metrics.observe(
        route,
        response.status_code,
        duration_ms / 1000,
        bytes_in=request.content_length or 0,
        bytes_out=response.content_length or 0,
        facts=facts,
    )
    log_request(
        level,
        "request",
        request_id=g.get("request_id"),
        method=request.method,
        path=request.path,
        status=response.status_code,
        duration_ms=duration_ms,
        bytes_in=request.content_length or 0,
        bytes_out=response.content_length or 0,
        **facts,
    )
    return response


def require_token(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the request with 401 unless it carries the bearer token; never touches the body."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        g.facts["token_index"] = check_token(
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


@bp.post("/convert")
@require_token
def convert() -> Response:
    """Convert one uploaded image to the requested format and size."""
    state = runtime()
    started = time.perf_counter()
    data, fields = read_upload()
    g.facts["upload_ms"] = round((time.perf_counter() - started) * 1000, 1)
    options = parse_options(
        fields,
        default_quality=state.settings.default_quality,
        max_dimension=state.settings.max_dimension,
    )
    g.facts.update(output_format=options.format)
    started = time.perf_counter()
    result = pipeline.convert(data, options, state.pipeline)
    g.facts.update(
        source_format=result.source_format.lower(),
        source_size=f"{result.source_width}x{result.source_height}",
        output_size=f"{result.width}x{result.height}",
        frames=result.frames,
        pipeline_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    if result.notes:
        g.facts["notes"] = list(result.notes)
    g.facts["output_format"] = result.format
    if result.quality is not None:
        g.facts["quality"] = result.quality
    if result.score is not None:
        g.facts["score"] = result.score
    state.metrics.count_outputs("/convert", [result])
    response = Response(result.data, mimetype=result.media_type)
    response.headers["X-Image-Width"] = str(result.width)
    response.headers["X-Image-Height"] = str(result.height)
    # The encoder quality of every lossy output; the SSIMULACRA2 score when quality=auto measured one.
    if result.quality is not None:
        response.headers["X-Image-Quality"] = str(result.quality)
    if result.score is not None:
        response.headers["X-Image-Score"] = f"{result.score:.2f}"
    return response


@bp.post("/variants")
@require_token
def variants() -> Response:
    """Make several renditions of one upload, with the source's facts and placeholder, as one JSON body."""
    state = runtime()
    started = time.perf_counter()
    data, fields = read_upload()
    g.facts["upload_ms"] = round((time.perf_counter() - started) * 1000, 1)
    requests = parse_variants(
        fields,
        max_variants=state.settings.max_variants,
        default_quality=state.settings.default_quality,
        max_dimension=state.settings.max_dimension,
    )
    g.facts["variants"] = len(requests)
    started = time.perf_counter()
    result = renditions.render_set(data, requests, state.pipeline)
    record_set_facts(result, started)
    formats = [rendition.format for rendition in result.renditions]
    g.facts["outputs"] = {fmt: formats.count(fmt) for fmt in dict.fromkeys(formats)}
    g.facts["output_bytes"] = sum(len(rendition.data) for rendition in result.renditions)
    state.metrics.count_outputs("/variants", result.renditions)
    body, length = rendition_set_body(result)
    response = Response(body, mimetype="application/json")
    response.content_length = length
    return response


@bp.post("/info")
@require_token
def info() -> Response:
    """The upload's facts and placeholder, decoding no more than the placeholder needs."""
    state = runtime()
    started = time.perf_counter()
    data, _fields = read_upload()
    g.facts["upload_ms"] = round((time.perf_counter() - started) * 1000, 1)
    started = time.perf_counter()
    result = renditions.describe(data, state.pipeline)
    record_set_facts(result, started)
    return jsonify(source=asdict(result.source), placeholder=asdict(result.placeholder))


def record_set_facts(result: RenditionSet, started: float) -> None:
    """Log facts shared by /variants and /info."""
    g.facts.update(
        source_format=result.source.format,
        source_size=f"{result.source.width}x{result.source.height}",
        frames=result.source.frames,
        decodes=len(result.decoded_sizes),
        pipeline_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    if result.notes:
        g.facts["notes"] = list(result.notes)


# Raw bytes per base64 chunk of the streamed /variants body (a multiple of 3, so chunks join cleanly).
BASE64_CHUNK = 3 * 256 * 1024


def rendition_set_body(result: RenditionSet) -> tuple[Iterator[bytes], int]:
    """The /variants JSON body as a stream, and its exact length.

    Each rendition's bytes are base64-encoded a chunk at a time as the body is sent, so the worker never holds
    a second, larger copy of every output at once.
    """
    head = json.dumps({"source": asdict(result.source), "placeholder": asdict(result.placeholder)})
    opening = head[:-1].encode() + b', "variants": ['
    parts = []
    for index, rendition in enumerate(result.renditions):
        meta = {
            "name": rendition.name,
            "format": rendition.format,
            "media_type": rendition.media_type,
            "width": rendition.width,
            "height": rendition.height,
            "frames": rendition.frames,
            "bytes": len(rendition.data),
            "quality": rendition.quality,
            "score": rendition.score,
            "data": "",
        }
        # Everything up to the opening quote of "data"; the comma separates it from the previous rendition.
        parts.append(((b"," if index else b"") + json.dumps(meta)[:-2].encode(), rendition.data))
    length = len(opening) + len(b"]}")
    length += sum(len(meta) + 4 * ((len(data) + 2) // 3) + len(b'"}') for meta, data in parts)

    def stream() -> Iterator[bytes]:
        yield opening
        for meta, data in parts:
            yield meta
            for offset in range(0, len(data), BASE64_CHUNK):
                yield base64.b64encode(data[offset : offset + BASE64_CHUNK])
            yield b'"}'
        yield b"]}"

    return stream(), length


def read_upload() -> tuple[bytes, dict[str, str]]:
    """The bytes of the multipart ``file`` part and the text fields; 400 when either is missing."""
    boundary = boundary_of(request.headers.get("Content-Type", ""))
    settings = runtime().settings
    try:
        body = read_body(
            request.environ["wsgi.input"],
            request.content_length,
            settings.max_upload_bytes,
            within_seconds=settings.timeout * BODY_SHARE_OF_TIMEOUT,
        )
    except RequestTimeout:
        request.environ[BODY_TIMED_OUT] = True  # nothing more will come: do not wait to drain it
        raise
    upload = parse_multipart(body, boundary)
    del body
    data = upload.files.get("file")
    if data is None:
        if "file" in upload.fields:
            msg = "'file' arrived as a text field; send it as a file part (with a filename)"
        else:
            msg = "the multipart body has no 'file' part"
        raise BadRequest(msg, code="missing_file")
    if not data:
        msg = "the 'file' part is empty"
        raise BadRequest(msg, code="empty_file")
    g.facts["source_bytes"] = len(data)
    return data, upload.fields


@bp.get("/health")
def health() -> Response:
    """Liveness: this worker answers. No auth, no work."""
    state = runtime()
    return jsonify(status="ok", version=state.version, uptime_seconds=state.uptime_seconds())


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """Readiness: the decoders and the configured encoders are loaded and usable, and the worker is not
    shutting down (a draining worker still answers, with 503, so a balancer stops sending)."""
    if request.environ.get(DRAINING):
        return jsonify(ready=False, reason="shutting down: answering queued requests, then exiting"), 503
    problem = runtime().readiness_problem()
    if problem:
        return jsonify(ready=False, reason=problem), 503
    return jsonify(ready=True), 200


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics summed over every worker; bearer token unless METRICS_PUBLIC=true."""
    state = runtime()
    if not state.settings.metrics_public:
        check_token(request.headers.get("Authorization", ""), state.settings.api_tokens)
    return Response(state.metrics.render(), content_type=state.metrics.content_type)


@bp.app_errorhandler(ImgoptError)
def domain_error(error: ImgoptError) -> Response:
    """Every domain error becomes the same JSON shape with its status."""
    return error_response(error.status, error.code, error.message, auth=isinstance(error, Unauthorized))


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """Werkzeug's own errors (routing: 404, 405) in our JSON shape."""
    status = error.code or 500
    code = HTTP_ERROR_CODES.get(status, "http_error")
    message = error.description or error.name
    if status == 404:
        message = (
            f"there is no {request.path}; the routes are POST /convert, POST /variants, POST /info, "
            "GET /health, GET /ready and GET /metrics"
        )
    elif status == 405:
        message = f"{request.method} is not allowed on {request.path}"
    response = error_response(status, code, message)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


@bp.app_errorhandler(Exception)
def unexpected_error(error: Exception) -> Response:
    """A genuine bug: log it with its traceback and request id, answer 500 in JSON."""
    logger.exception("unhandled error", extra={"request_id": g.get("request_id")})
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def error_response(status: int, code: str, message: str, *, auth: bool = False) -> Response:
    """The JSON error body every failure uses."""
    g.facts = {**g.get("facts", {}), "error_code": code}
    response = jsonify(error={"code": code, "message": message, "request_id": g.get("request_id")})
    response.status_code = status
    if auth:
        response.headers["WWW-Authenticate"] = 'Bearer realm="imgopt"'
    return response
