"""The API blueprint: POST /convert, /variants and /info, each a thin call of the one pipeline."""

from __future__ import annotations

import time
from dataclasses import asdict

from flask import Blueprint, Response, jsonify

from imgopt.http.admission import admit, request_context
from imgopt.http.auth import authenticate
from imgopt.http.forms import parse_options, parse_variants
from imgopt.http.request_facts import elapsed_ms, request_facts
from imgopt.http.responses import rendition_set_body
from imgopt.http.runtime import runtime
from imgopt.http.uploads import read_upload
from imgopt.imaging import pipeline

bp = Blueprint("api", __name__)
# In this order: nothing is judged, learned or read before the token is known.
bp.before_request(authenticate)
bp.before_request(admit)


@bp.post("/convert")
def convert() -> Response:
    """Convert one uploaded image to the requested format and size."""
    state, facts = runtime(), request_facts()
    data, fields, parts = read_upload()
    options = parse_options(fields, max_dimension=state.settings.max_dimension, parts=parts)
    facts.output_format = options.format
    started = time.perf_counter()
    with state.cores.busy():
        result = pipeline.convert(data, options, state.pipeline, request_context())
    output = result.rendition
    facts.record_source(result, elapsed_ms(started))
    facts.record_single(output)
    state.metrics.count_outputs("/convert", [output])
    response = Response(output.data, mimetype=output.media_type)
    response.headers["X-Image-Width"] = str(output.width)
    response.headers["X-Image-Height"] = str(output.height)
    # The encoder quality of every lossy output; the SSIMULACRA2 score when quality=auto measured one.
    if output.quality is not None:
        response.headers["X-Image-Quality"] = str(output.quality)
    if output.score is not None:
        response.headers["X-Image-Score"] = f"{output.score:.2f}"
    return response


@bp.post("/variants")
def variants() -> Response:
    """Make several renditions of one upload, with the source's facts and placeholder, as one JSON body."""
    state, facts = runtime(), request_facts()
    data, fields, parts = read_upload()
    requests = parse_variants(
        fields,
        max_variants=state.settings.max_variants,
        max_dimension=state.settings.max_dimension,
        parts=parts,
    )
    facts.variants = len(requests)
    started = time.perf_counter()
    with state.cores.busy():
        result = pipeline.render_set(data, requests, state.pipeline, request_context())
    facts.record_source(result, elapsed_ms(started))
    facts.record_set(result)
    state.metrics.count_outputs("/variants", result.renditions)
    body, length = rendition_set_body(result)
    response = Response(body, mimetype="application/json")
    response.content_length = length
    return response


@bp.post("/info")
def info() -> Response:
    """The upload's facts and placeholder, decoding no more than the placeholder needs."""
    state, facts = runtime(), request_facts()
    data, _fields, _parts = read_upload()
    started = time.perf_counter()
    with state.cores.busy():
        result = pipeline.describe(data, state.pipeline, request_context())
    facts.record_source(result, elapsed_ms(started))
    facts.record_set(result)
    return jsonify(source=asdict(result.source), placeholder=asdict(result.placeholder))
