"""Prometheus metrics, correct across gunicorn workers.

Under gunicorn, gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh directory before anything imports
prometheus_client, so every worker writes its samples to files there and /metrics sums them
(``MultiProcessCollector``); a worker's files are marked dead when it exits. Without that variable (tests,
``flask run``) the metrics live in this app's own registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
QUEUE_WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
QUALITY_BUCKETS = (10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 100)
PROBE_BUCKETS = (1, 2, 3, 4, 5, 6)


class Output(Protocol):
    """What the metrics need of an encoded image (imgopt.imaging.pipeline.Rendition has it)."""

    format: str
    quality: int | None
    score: float | None
    probes: int | None


class Metrics:
    """The service's counters and histograms, and their rendering."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, multiprocess_dir: str | None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "imgopt_requests",
            "Requests answered, by route, status and output format.",
            ["route", "status", "format"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "imgopt_request_duration_seconds",
            "Time from request start to response, by route.",
            ["route"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.bytes_in = Counter(
            "imgopt_request_bytes", "Request body bytes received.", ["route"], registry=self.registry
        )
        self.bytes_out = Counter(
            "imgopt_response_bytes", "Response body bytes sent.", ["route"], registry=self.registry
        )
        self.outputs = Counter(
            "imgopt_outputs",
            "Images produced, by route and output format (one per /convert, one per /variants rendition).",
            ["route", "format"],
            registry=self.registry,
        )
        self.auto_quality = Histogram(
            "imgopt_auto_quality",
            "Encoder qualities quality=auto chose, by output format.",
            ["format"],
            buckets=QUALITY_BUCKETS,
            registry=self.registry,
        )
        self.auto_quality_probes = Histogram(
            "imgopt_auto_quality_probes",
            "Encodes quality=auto made per output, by output format (1: the predicted quality was enough).",
            ["format"],
            buckets=PROBE_BUCKETS,
            registry=self.registry,
        )
        self.rejections = Counter(
            "imgopt_rejections", "Requests refused, by error code.", ["code"], registry=self.registry
        )
        self.queue_wait = Histogram(
            "imgopt_queue_wait_seconds",
            "How long image requests waited for a worker: from their first byte's arrival to admission.",
            buckets=QUEUE_WAIT_BUCKETS,
            registry=self.registry,
        )
        self.refusals = Counter(
            "imgopt_refusals",
            "Image requests not made, by reason: waited_too_long (over MAX_QUEUE_WAIT), "
            "caller_gives_up_sooner (over what its caller has shown it waits), cannot_finish_in_time (its "
            "declared wait would pass), client_gone.",
            ["reason"],
            registry=self.registry,
        )

    def observe(
        self,
        route: str,
        status: int,
        seconds: float,
        *,
        bytes_in: int,
        bytes_out: int,
        output_format: str,
        error_code: str | None,
    ) -> None:
        """Record one finished request."""
        self.requests.labels(route, str(status), output_format).inc()
        self.duration.labels(route).observe(seconds)
        self.bytes_in.labels(route).inc(bytes_in)
        self.bytes_out.labels(route).inc(bytes_out)
        if error_code is not None:
            self.rejections.labels(error_code).inc()

    def observe_queue_wait(self, seconds: float) -> None:
        """An image request was taken by a worker after waiting ``seconds``."""
        self.queue_wait.observe(seconds)

    def count_refusal(self, reason: str) -> None:
        """An image request was not made, for ``reason``."""
        self.refusals.labels(reason).inc()

    def count_outputs(self, route: str, outputs: Iterable[Output]) -> None:
        """Count the images one successful request produced, and the qualities quality=auto chose."""
        for output in outputs:
            self.outputs.labels(route, output.format).inc()
            if output.score is not None and output.quality is not None:
                self.auto_quality.labels(output.format).observe(output.quality)
            if output.probes is not None:
                self.auto_quality_probes.labels(output.format).observe(output.probes)

    def render(self) -> bytes:
        """The exposition text for every worker's samples."""
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
            return generate_latest(registry)
        return generate_latest(self.registry)


def mark_worker_dead(pid: int, multiprocess_dir: str) -> None:
    """Drop a dead worker's live samples (called from gunicorn's child_exit hook)."""
    multiprocess.mark_process_dead(pid, multiprocess_dir)
