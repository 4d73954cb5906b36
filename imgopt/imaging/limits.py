"""Limits checked before any pixel is decoded: size, frames, pixel memory and encode time.

The memory and time figures are estimates from measured per-format factors and encoder throughput
(bench/large.py, bench/avif_table.py; docs/performance.md). They only refuse hopeless requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from imgopt.errors import ImageTooLarge, UnprocessableImage
from imgopt.imaging import operations
from imgopt.imaging.geometry import Geometry
from imgopt.imaging.options import AUTO_FORMATS, ConvertOptions
from imgopt.imaging.quality.search import MAX_PROBES
from imgopt.imaging.settings import PipelineSettings

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


# Memory quality=auto needs per pixel of the image it scores, beyond a fixed-quality conversion: the
# reference's coarse scales, a band of full-resolution work, the probes (`make bench`, bench/autoquality.py,
# measured 38-42 bytes a pixel at 1200 px; rounded up for the probes' own encoder buffers).
SCORING_BYTES_PER_PIXEL = 48


# Encodes quality=auto may make of a frame besides the output: its probes and the prediction's sample (at
# most a quarter of one), with the perceptual scoring of each counted as about one more.
AUTO_QUALITY_ENCODES = 2 * (MAX_PROBES + 1)


# Working memory of an encoder per pixel of its input, beyond the frame itself: peak RSS growth of one
# 1920x1440 encode of noise (the worst case), 16 bytes for WebP at method 4, 22 for AVIF at speed 9. Counted
# for each rendition encoded beside another when a set runs on several threads.
ENCODER_BYTES_PER_PIXEL = 24


# Encoders that can use more than one thread for one image (libaom's row and tile threads): a set of one
# such rendition gives its encoder the threads a set would give its renditions.
THREADED_ENCODERS = ("avif",)


def uses_lent_threads(options: ConvertOptions) -> bool:
    """Whether a rendition alone in its set can use threads lent to it: a threaded encoder's, or
    quality=auto's search (a probe encoded ahead, the scoring shared, format=auto's two searches at once)."""
    return options.format in THREADED_ENCODERS or options.auto_quality


# Passes of an operation (a 3x3 convolution with GD's arithmetic, imgopt/imaging/operations/gd.py) over a
# frame, in megapixels per second on one busy core; rounded down from bench/operations.py.
PASS_MEGAPIXELS_PER_SECOND = 20.0


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


def output_formats_that_fit(canvas: tuple[int, int], output_format: str) -> tuple[str, ...]:
    """The formats an output of ``canvas`` can be written in: the one asked for, or for format=auto
    whichever of WebP and AVIF can hold it."""
    candidates = AUTO_FORMATS if output_format == "auto" else (output_format,)
    return tuple(fmt for fmt in candidates if max(canvas) <= MAX_OUTPUT_SIDE.get(fmt, max(canvas)))


def check_output_size(plan: Geometry, options: ConvertOptions) -> None:
    """Refuse up front an output the chosen encoder cannot represent."""
    if output_formats_that_fit(plan.canvas, options.format):
        return
    width, height = plan.canvas
    fmt = "avif" if options.format == "auto" else options.format
    name = fmt.upper() if fmt != "webp" else "WebP"
    msg = (
        f"a {width}x{height} output exceeds {name}'s {MAX_OUTPUT_SIDE[fmt]} px side limit; "
        "ask for a smaller size"
    )
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
    *,
    scored_pixels: int = 0,
    in_flight_pixels: int = 0,
    kept_pixels: int = 0,
) -> None:
    """Refuse, before decoding, what would need more pixel memory than the per-worker budget.

    ``decoded_size`` is what the decoder will produce (JPEG's draft size). The decoded frame is multiplied by
    the peak-to-pixels factor measured for its format; ``output_pixels`` (every output frame of every output,
    width x height summed) are kept until encoding; ``scored_pixels`` are the outputs quality=auto scores
    at once (the largest, on one thread); ``in_flight_pixels`` the outputs encoded beside the first when
    renditions run on several threads; ``kept_pixels`` the decodes widths=auto keeps until its ends are
    encoded. An enlarged strip (1x100000 to a width of 4096) is caught here too.
    """
    width, height = decoded_size
    factor = PEAK_MEMORY_FACTOR.get(source_format or "", 2.5)
    if mode in ALPHA_MODES:
        factor += 1  # resizing with alpha works on a premultiplied copy
    needed = int(width * height * pixel_bytes(mode) * factor)
    needed += output_pixels * 4 + scored_pixels * SCORING_BYTES_PER_PIXEL
    needed += in_flight_pixels * ENCODER_BYTES_PER_PIXEL + kept_pixels * pixel_bytes(mode)
    if needed > settings.max_decode_bytes:
        mib = 1024 * 1024
        msg = (
            f"converting this {width}x{height} {source_format} would need about {needed // mib} MiB of "
            f"pixel memory; the limit is {settings.max_decode_bytes // mib} MiB (MAX_DECODE_MB). "
            "Send a smaller image, or a JPEG, which is decoded at reduced size"
            + ("; quality=auto also scores the output at its full size" if scored_pixels else "")
        )
        raise ImageTooLarge(msg)


def estimate_encode_seconds(
    plan: Geometry, frames: int, options: ConvertOptions, settings: PipelineSettings
) -> float:
    """A conservative estimate of the encode time on one busy core, from measured throughput.

    quality=auto encodes the first frame once per probe besides the output itself; format=auto does it
    all for both WebP and AVIF.
    """
    frame_megapixels = plan.canvas[0] * plan.canvas[1] / 1e6
    encodes = frames + (AUTO_QUALITY_ENCODES if options.auto_quality else 0)
    seconds = frame_megapixels * frames * operations.passes(options.operations) / PASS_MEGAPIXELS_PER_SECOND
    for fmt in output_formats_that_fit(plan.canvas, options.format):
        if fmt == "avif":
            rate = avif_megapixels_per_second(settings.avif_codec, settings.avif_speed)
        else:
            rate = ENCODE_MEGAPIXELS_PER_SECOND[fmt]
        if options.lossless:
            rate /= 4
        seconds += frame_megapixels * encodes / rate
    return seconds


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


Output = tuple[Geometry, int, ConvertOptions]


def check_set_budgets(
    source_format: str,
    mode: str,
    largest_decode: tuple[int, int],
    outputs: Sequence[Output],
    settings: PipelineSettings,
    *,
    kept_decodes: Sequence[tuple[int, int]] = (),
) -> int:
    """Pixel memory and encode time of a set's outputs (plan, frames, options), summed, before anything is
    decoded; returns the threads the memory budget allows (renditions encoded at once each need their
    encoder's memory), at most ``settings.rendition_threads``. ``kept_decodes`` are the sizes of decodes
    held beside the others (for widths=auto's widths between its ends)."""
    areas = [plan.canvas[0] * plan.canvas[1] for plan, _frames, _options in outputs]
    output_pixels = sum(area * frames for area, (_plan, frames, _options) in zip(areas, outputs, strict=True))
    scored = sorted(
        (
            area
            for area, (_plan, _frames, options) in zip(areas, outputs, strict=True)
            if options.auto_quality
        ),
        reverse=True,
    )
    largest = sorted(areas, reverse=True)

    alone = len(outputs) == 1 and uses_lent_threads(outputs[0][2])

    def check(threads: int) -> None:
        scored_pixels, in_flight_pixels = sum(scored[:threads]), sum(largest[1:threads])
        if alone and scored and threads > 1:
            # quality=auto alone: a probe encoded beside the scoring; format=auto: two searches at once.
            (plan, _frames, options) = outputs[0]
            searches = min(threads, len(output_formats_that_fit(plan.canvas, options.format)))
            scored_pixels, in_flight_pixels = scored[0] * searches, scored[0] * (threads - 1)
        check_memory(
            source_format,
            mode,
            largest_decode,
            output_pixels,
            settings,
            scored_pixels=scored_pixels,
            in_flight_pixels=in_flight_pixels,
            kept_pixels=sum(width * height for width, height in kept_decodes),
        )

    check(1)
    check_encode_time(outputs, settings)
    wanted = settings.rendition_threads if alone else min(settings.rendition_threads, len(outputs))
    for threads in range(wanted, 1, -1):
        try:
            check(threads)
        except ImageTooLarge:
            continue
        return threads
    return 1
