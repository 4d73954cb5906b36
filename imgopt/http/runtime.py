"""What one running app holds: its settings, the pipeline's settings, the core ledger, the queue watch, its
start time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import metadata

from flask import current_app

from imgopt.config import Settings
from imgopt.imaging.codecs import encoders_problem
from imgopt.imaging.settings import PipelineSettings
from imgopt.server import cores
from imgopt.server.cores import CoreLedger
from imgopt.server.metrics import Metrics
from imgopt.server.shedding import QueueWatch


def package_version() -> str:
    """The installed imgopt version, or 0+unknown when run from a bare checkout."""
    try:
        return metadata.version("imgopt")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass
class Runtime:
    """Settings and state shared by every request of one app."""

    settings: Settings
    pipeline: PipelineSettings
    metrics: Metrics
    # How long requests wait for this worker, and how long callers wait for answers (load shedding).
    queue: QueueWatch
    # Which cores every worker is using (gunicorn's shared ledger; one of this process's own without it).
    cores: CoreLedger = field(default_factory=lambda: cores.installed() or CoreLedger.for_this_process())
    version: str = field(default_factory=package_version)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Derive the pipeline's settings from the service's."""
        return cls(
            settings=settings,
            pipeline=settings.pipeline_settings(),
            metrics=Metrics(settings.prometheus_multiproc_dir or None),
            queue=QueueWatch(settings.max_queue_wait, settings.workers),
        )

    def uptime_seconds(self) -> int:
        """Whole seconds since this app was created."""
        return int(time.monotonic() - self.started)

    def readiness_problem(self) -> str | None:
        """Why this app cannot convert right now, or None when it can."""
        return encoders_problem(self.pipeline.avif_codec)


def runtime() -> Runtime:
    """The app's settings and state, built once in create_app."""
    return current_app.extensions["imgopt"]
