"""The image pipeline: bytes and options in, encoded bytes and facts out.

Pure by design: no Flask, no logging, no environment. ``convert`` orchestrates small steps (open, check
limits, plan, decode, per-frame transforms, encode) that live in their own modules, so each can be tested
and benchmarked alone and reused by other orchestrations (renditions.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import geometry
from .budget import check_encode_time, check_memory, check_output_size, check_source_size
from .encoders import MEDIA_TYPES, Frame
from .options import ConvertOptions
from .output import encode_output
from .pipeline_settings import PipelineSettings
from .source import (
    apply_draft,
    count_frames,
    decode_frames,
    loop_count,
    open_image,
    oriented_size,
    read_orientation,
)
from .transform import place_smart_window, render_frame, upright

__all__ = ["ConvertOptions", "PipelineSettings", "Result", "convert"]


@dataclass(frozen=True)
class Result:
    """The encoded image and what we learned making it."""

    data: bytes
    format: str
    width: int
    height: int
    frames: int
    source_format: str
    source_width: int
    source_height: int
    # Size the decoder produced (smaller than the source when JPEG draft decoding applied).
    decoded_size: tuple[int, int] = (0, 0)
    notes: tuple[str, ...] = ()
    # The encoder quality used (None for lossless outputs), and with quality=auto the SSIMULACRA2 reached.
    quality: int | None = None
    score: float | None = None

    @property
    def media_type(self) -> str:
        """The Content-Type of ``data``."""
        return MEDIA_TYPES[self.format]


def convert(data: bytes, options: ConvertOptions, settings: PipelineSettings) -> Result:
    """Decode, orient, resize, colour-correct and encode one upload."""
    notes: list[str] = []
    with open_image(data) as source:
        source_format = source.format or "unknown"
        frame_count = count_frames(source, data, options.animated, settings)
        check_source_size(source.size, frame_count, settings)
        orientation = read_orientation(source, notes)
        upright_size = oriented_size(source.size, orientation)
        plan = geometry.plan(upright_size, options)
        check_output_size(plan, options)
        apply_draft(source, plan.scaled_source, orientation)
        canvas_pixels = plan.canvas[0] * plan.canvas[1]
        scored = canvas_pixels if options.auto_quality else 0
        check_memory(
            source.format,
            source.mode,
            source.size,
            canvas_pixels * frame_count,
            settings,
            scored_pixels=scored,
        )
        check_encode_time([(plan, frame_count, options)], settings)
        grid = geometry.grid(upright_size, oriented_size(source.size, orientation), orientation)
        profile = source.info.get("icc_profile")
        frames = []
        for image, duration in decode_frames(source, frame_count):
            base = upright(image, orientation)
            if not frames:  # an animation keeps the window its first frame chose
                plan = place_smart_window(
                    base, plan, grid, profile=profile, cmyk_profile=settings.cmyk_profile, notes=notes
                )
            frame = render_frame(
                base,
                image,
                plan=plan,
                grid=grid,
                profile=profile,
                cmyk_profile=settings.cmyk_profile,
                output_format=options.format,
                notes=notes,
            )
            frames.append(Frame(frame, duration))
        loop = loop_count(source)
        decoded_size = source.size
    encoded = encode_output(frames, loop, options, settings)
    first = frames[0].image
    return Result(
        data=encoded.data,
        format=encoded.format,
        width=first.width,
        height=first.height,
        frames=len(frames),
        source_format=source_format,
        source_width=plan.source_size[0],
        source_height=plan.source_size[1],
        decoded_size=decoded_size,
        notes=tuple(dict.fromkeys(notes)),
        quality=encoded.quality,
        score=encoded.score,
    )
