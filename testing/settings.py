"""Settings for tests and benchmarks: the production defaults, derived as the service derives them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from imgopt.config import Settings
from imgopt.imaging.settings import PipelineSettings
from testing.server import TOKEN


def pipeline_settings(**overrides: Any) -> PipelineSettings:
    """The pipeline settings a default-configured service runs with, with ``overrides`` applied."""
    return replace(Settings(api_token=TOKEN).pipeline_settings(), **overrides)
