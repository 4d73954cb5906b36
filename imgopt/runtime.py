"""What one running app holds: its settings, the pipeline's settings, its start time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import metadata

from .config import Settings
from .encoders import encoders_problem
from .metrics import Metrics
from .pipeline_settings import PipelineSettings


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
    version: str = field(default_factory=package_version)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Derive the pipeline's settings from the service's."""
        return cls(
            settings=settings,
            pipeline=PipelineSettings(
                max_source_pixels=settings.max_source_pixels,
                max_frames=settings.max_frames,
                max_decode_bytes=settings.max_decode_mb * 1024 * 1024,
                # Half the worker timeout: the estimate is conservative, the margin covers a loaded machine.
                max_encode_seconds=settings.timeout / 2,
                webp_method=settings.webp_method,
                avif_codec=settings.avif_codec,
                avif_speed=settings.avif_speed,
                auto_quality_target=settings.auto_quality_target,
            ),
            metrics=Metrics(settings.prometheus_multiproc_dir or None),
        )

    def uptime_seconds(self) -> int:
        """Whole seconds since this app was created."""
        return int(time.monotonic() - self.started)

    def readiness_problem(self) -> str | None:
        """Why this app cannot convert right now, or None when it can."""
        return encoders_problem(self.pipeline.avif_codec)
