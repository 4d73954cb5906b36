"""The pipeline's own settings: limits and encoder choices that come from the service, not the caller.

Every value is derived from the service's ``Settings`` (``Settings.pipeline_settings()`` in imgopt/config.py),
where each is declared once with its default; nothing here repeats a default, so a pipeline test runs on the
production limits unless it says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imgopt.imaging.colour import load_cmyk_profile


@dataclass(frozen=True)
class PipelineSettings:
    """Limits and encoder settings that come from the service's configuration, not the caller."""

    max_source_pixels: int
    max_frames: int
    webp_method: int
    avif_codec: str
    avif_speed: int
    # Largest estimated pixel memory for one conversion (decoded frame plus output frames), bytes.
    max_decode_bytes: int
    # Longest estimated encode a request may ask for; kept well inside gunicorn's worker timeout.
    max_encode_seconds: float
    # The SSIMULACRA2 score quality=auto aims for unless a request sends its own target.
    auto_quality_target: float
    # The encoder quality of an output whose options leave it unset.
    default_quality: int
    # Most threads one request may use when cores are idle (1: everything on the request's own thread).
    rendition_threads: int
    # ICC profile assumed for CMYK images that carry none.
    cmyk_profile: bytes = field(default_factory=load_cmyk_profile, repr=False)
