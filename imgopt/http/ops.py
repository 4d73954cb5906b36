"""The operations blueprint: GET /health, /ready and /metrics, for orchestrators and Prometheus."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from imgopt.http.auth import check_token
from imgopt.http.runtime import runtime
from imgopt.server.environ import DRAINING

bp = Blueprint("ops", __name__)


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
    return Response(
        state.metrics.render() + state.cores.exposition(), content_type=state.metrics.content_type
    )
