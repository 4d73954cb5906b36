"""Limits checked before any pixel is decoded: size, frames, pixel memory and encode time.

The memory and time figures are estimates from measured per-format factors and encoder throughput
(bench/large.py, bench/avif_table.py; docs/performance.md). They only refuse hopeless requests.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ImageTooLarge, UnprocessableImage
from .geometry import Geometry
from .options import ConvertOptions
from .pipeline_settings import PipelineSettings

# The longest side each output format can hold: WebP's header has 14 bits; libavif (what browsers decode
# AVIF with) refuses sides over 32768 by default, and the AV1 encoder fails beyond 65536; JPEG has 16 bits.
MAX_OUTPUT_SIDE = {"webp": 16383, "avif": 32768, "jpeg": 65535}


# Peak memory of a conversion over the bytes of its decoded frame, by source format, measured with
# bench/large.py at ~48 MP (docs/performance.md); the WebP decoder keeps several full-size canvases.
PEAK_MEMORY_FACTOR = {
    "JPEG": 2.5,
    "PNG": 1.3,
    "GIF": 1.3,
    "BMP": 1.3,
    "TIFF": 1.4,
    "HEIF": 1.9,
    "AVIF": 2.0,
    "WEBP": 4.0,
}


ALPHA_MODES = ("RGBA", "LA", "La", "RGBa", "PA")


# Encoder throughput in megapixels per second on one core of our 2-core machine with the other core busy,
# rounded down from bench measurements (docs/performance.md); used only to refuse hopeless requests.
ENCODE_MEGAPIXELS_PER_SECOND = {"webp": 4.0, "jpeg": 15.0, "png": 1.5}


AVIF_MEGAPIXELS_PER_SECOND = {
    "aom": {0: 0.05, 4: 0.3, 6: 0.8, 8: 2.0, 9: 4.0, 10: 5.0},
    "svt": {0: 0.05, 4: 0.5, 6: 2.0, 8: 5.0, 10: 8.0},
    "rav1e": {0: 0.02, 4: 0.1, 6: 0.2, 8: 0.5, 10: 1.0},
}


def check_source_size(size: tuple[int, int], frames: int, settings: PipelineSettings) -> None:
    """Refuse, before decoding, a source whose pixels or frames exceed the configured limits."""
    width, height = size
    if width < 1 or height < 1:
        msg = f"the image claims an impossible size {width}x{height}"
        raise UnprocessableImage(msg)
    if frames > settings.max_frames:
        msg = f"the animation has more than {settings.max_frames} frames (MAX_FRAMES)"
        raise ImageTooLarge(msg, code="too_many_frames")
    pixels = width * height * frames
    if pixels > settings.max_source_pixels:
        what = f"{width}x{height}" + (f" x {frames} frames" if frames > 1 else "")
        limit = settings.max_source_pixels
        msg = f"the image is {what} = {pixels} pixels; the limit is {limit} (MAX_SOURCE_PIXELS)"
        raise ImageTooLarge(msg)


def check_output_size(plan: Geometry, options: ConvertOptions) -> None:
    """Refuse up front an output the chosen encoder cannot represent."""
    width, height = plan.canvas
    limit = MAX_OUTPUT_SIDE.get(options.format)
    if limit is not None and max(width, height) > limit:
        name = options.format.upper() if options.format != "webp" else "WebP"
        msg = f"a {width}x{height} output exceeds {name}'s {limit} px side limit; ask for a smaller size"
        raise ImageTooLarge(msg, code="output_too_large")


def pixel_bytes(mode: str) -> int:
    """Bytes per pixel of the working image for ``mode`` (Pillow stores RGB and LA in four; palette
    images become RGB or RGBA)."""
    if mode in ("1", "L"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def check_memory(
    source_format: str | None,
    mode: str,
    decoded_size: tuple[int, int],
    output_pixels: int,
    settings: PipelineSettings,
) -> None:
    """Refuse, before decoding, what would need more pixel memory than the per-worker budget.

    ``decoded_size`` is what the decoder will produce (JPEG's draft size). The decoded frame is multiplied by
    the peak-to-pixels factor measured for its format; ``output_pixels`` (every output frame of every output,
    width x height summed) are kept until encoding. An enlarged strip (1x100000 to a width of 4096) is
    caught here too.
    """
    width, height = decoded_size
    factor = PEAK_MEMORY_FACTOR.get(source_format or "", 2.5)
    if mode in ALPHA_MODES:
        factor += 1  # resizing with alpha works on a premultiplied copy
    needed = int(width * height * pixel_bytes(mode) * factor)
    needed += output_pixels * 4
    if needed > settings.max_decode_bytes:
        mib = 1024 * 1024
        msg = (
            f"converting this {width}x{height} {source_format} would need about {needed // mib} MiB of "
            f"pixel memory; the limit is {settings.max_decode_bytes // mib} MiB (MAX_DECODE_MB). "
            "Send a smaller image, or a JPEG, which is decoded at reduced size"
        )
        raise ImageTooLarge(msg)


def estimate_encode_seconds(
    plan: Geometry, frames: int, options: ConvertOptions, settings: PipelineSettings
) -> float:
    """A conservative estimate of the encode time on one busy core, from measured throughput."""
    megapixels = plan.canvas[0] * plan.canvas[1] * frames / 1e6
    if options.format == "avif":
        rate = avif_megapixels_per_second(settings.avif_codec, settings.avif_speed)
    else:
        rate = ENCODE_MEGAPIXELS_PER_SECOND[options.format]
    if options.lossless:
        rate /= 4
    return megapixels / rate


def avif_megapixels_per_second(codec: str, speed: int) -> float:
    """Measured AVIF throughput for the nearest measured speed at or below ``speed``."""
    rates = AVIF_MEGAPIXELS_PER_SECOND[codec]
    known = [s for s in rates if s <= speed] or [min(rates)]
    return rates[max(known)]


def check_encode_time(
    outputs: Iterable[tuple[Geometry, int, ConvertOptions]], settings: PipelineSettings
) -> None:
    """Refuse up front outputs (plan, frames, options) that together could not be encoded well inside the
    worker timeout."""
    outputs = list(outputs)
    seconds = sum(estimate_encode_seconds(plan, frames, opts, settings) for plan, frames, opts in outputs)
    if seconds > settings.max_encode_seconds:
        if len(outputs) == 1:
            plan, frames, options = outputs[0]
            width, height = plan.canvas
            what = f"{width}x{height}" + (f" x {frames} frames" if frames > 1 else "")
            what = f"{what} as {options.format.upper()}"
        else:
            what = f"these {len(outputs)} renditions"
        msg = (
            f"encoding {what} would take about {seconds:.0f} s, over the "
            f"{settings.max_encode_seconds:.0f} s limit (half of TIMEOUT); ask for smaller or fewer outputs"
        )
        raise ImageTooLarge(msg, code="output_too_large")
