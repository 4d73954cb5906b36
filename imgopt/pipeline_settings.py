"""The pipeline's own settings: limits and encoder choices that come from the service, not the caller.

A module of its own so that the pipeline's steps (budget, encoders, renditions) can all import it without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .colour import load_cmyk_profile


@dataclass(frozen=True)
class PipelineSettings:
    """Limits and encoder settings that come from the service's configuration, not the caller."""

    max_source_pixels: int = 50_000_000
    max_frames: int = 300
    webp_method: int = 4
    avif_codec: str = "aom"
    avif_speed: int = 9
    # Largest estimated pixel memory for one conversion (decoded frame plus output frames), bytes.
    max_decode_bytes: int = 384 * 1024 * 1024
    # Longest estimated encode a request may ask for; kept well inside gunicorn's worker timeout.
    max_encode_seconds: float = 30.0
    # The SSIMULACRA2 score quality=auto aims for unless a request sends its own target.
    auto_quality_target: float = 75.0
    # ICC profile assumed for CMYK images that carry none.
    cmyk_profile: bytes = field(default_factory=load_cmyk_profile, repr=False)
