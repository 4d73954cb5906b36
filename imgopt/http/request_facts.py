"""What one request learned on its way, typed: the request log line and the metrics read the same fields."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from flask import g

from imgopt.imaging.outputs import Rendition, RenditionSet


@dataclass
class RequestFacts:
    """Facts for the log line of one request; None means "not known for this request" and is not logged."""

    token_index: int | None = None
    # The wait its caller declared (Prefer: wait=N), in seconds, when the service honours it.
    declared_wait_s: float | None = None
    # Milliseconds the request waited for a worker (since its first byte arrived), and why it was refused.
    queue_wait_ms: int | None = None
    refusal: str | None = None
    source_bytes: int | None = None
    upload_ms: float | None = None
    variants: int | None = None
    output_format: str | None = None
    source_format: str | None = None
    source_size: str | None = None
    output_size: str | None = None
    frames: int | None = None
    decodes: int | None = None
    pipeline_ms: float | None = None
    notes: list[str] | None = None
    quality: int | None = None
    score: float | None = None
    probes: int | None = None
    outputs: dict[str, int] | None = None
    output_bytes: int | None = None
    error_code: str | None = None

    def log_fields(self) -> dict[str, Any]:
        """The known facts, in declaration order, as the log line's keys."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    def record_source(self, result: RenditionSet, pipeline_ms: float) -> None:
        """What every image route learns of its upload."""
        self.source_format = result.source.format
        self.source_size = f"{result.source.width}x{result.source.height}"
        self.pipeline_ms = pipeline_ms
        if result.notes:
            self.notes = list(result.notes)

    def record_single(self, output: Rendition) -> None:
        """What /convert learns of its one output."""
        self.output_format = output.format
        self.output_size = f"{output.width}x{output.height}"
        self.frames = output.frames
        self.quality = output.quality
        self.score = output.score
        self.probes = output.probes

    def record_set(self, result: RenditionSet) -> None:
        """What /variants and /info learn of a set."""
        self.frames = result.source.frames
        self.decodes = len(result.decoded_sizes)
        if result.renditions:
            formats = [rendition.format for rendition in result.renditions]
            self.outputs = {fmt: formats.count(fmt) for fmt in dict.fromkeys(formats)}
            self.output_bytes = sum(len(rendition.data) for rendition in result.renditions)


def request_facts() -> RequestFacts:
    """This request's facts (created by the request hook; a fresh one outside a hooked request)."""
    if "facts" not in g:
        g.facts = RequestFacts()
    return g.facts


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (a perf_counter reading), to a tenth, for the log."""
    return round((time.perf_counter() - started) * 1000, 1)
