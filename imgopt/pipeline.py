"""The image pipeline: bytes and options in, encoded bytes and facts out.

Pure by design: no Flask, no logging, no environment. Each step is a small function (open, check limits,
plan, decode, orient, normalise, resize, colour, pad, encode) so it can be tested and benchmarked alone.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources

from PIL import Image, ImageCms, UnidentifiedImageError

from . import geometry
from .errors import ImageTooLarge, UnprocessableImage, UnsupportedFormat
from .geometry import Geometry
from .options import ConvertOptions
from .probe import count_gif_frames

# Pillow format ids we decode; every other Pillow plugin (EPS, PSD, SGI, JPEG 2000, ...) never sees a byte.
ALLOWED_INPUTS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF", "TIFF", "BMP")
# Formats whose extra frames are an animation; for the others (JPEG gain maps, TIFF pages, HEIF) we take
# the first.
ANIMATED_INPUTS = ("GIF", "WEBP", "PNG", "AVIF")
MEDIA_TYPES = {"webp": "image/webp", "avif": "image/avif", "jpeg": "image/jpeg", "png": "image/png"}
# WebP's format cannot hold a side longer than this.
WEBP_MAX_SIDE = 16383
EXIF_ORIENTATION = 0x0112
TRANSPOSE_FOR_ORIENTATION = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}
LOSSLESS_WEBP_EFFORT = 75
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
AVIF_QUALITY_OFFSET = 2
# Encoder throughput in megapixels per second on one core of our 2-core machine with the other core busy,
# rounded down from bench measurements (docs/performance.md); used only to refuse hopeless requests.
ENCODE_MEGAPIXELS_PER_SECOND = {"webp": 4.0, "jpeg": 15.0, "png": 1.5}
AVIF_MEGAPIXELS_PER_SECOND = {
    "aom": {0: 0.05, 4: 0.3, 6: 0.8, 8: 2.0, 9: 4.0, 10: 5.0},
    "svt": {0: 0.05, 4: 0.5, 6: 2.0, 8: 5.0, 10: 8.0},
    "rav1e": {0: 0.02, 4: 0.1, 6: 0.2, 8: 0.5, 10: 1.0},
}
RESAMPLE = Image.Resampling.LANCZOS
# Shrink by whole factors with box averaging first, then finish with Lanczos: as sharp as Lanczos alone
# (the last step still spans >= 3x) and much faster on large downscales. See docs/api.md.
REDUCING_GAP = 3.0


# The profile assumed for CMYK images that carry none (see imgopt/profiles/README.md).
CMYK_PROFILE = "profiles/cmyk-fogra39.icc"


def load_cmyk_profile() -> bytes:
    """The standard CMYK profile shipped inside the package."""
    return resources.files("imgopt").joinpath(CMYK_PROFILE).read_bytes()


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
    # ICC profile assumed for CMYK images that carry none.
    cmyk_profile: bytes = field(default_factory=load_cmyk_profile, repr=False)


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

    @property
    def media_type(self) -> str:
        """The Content-Type of ``data``."""
        return MEDIA_TYPES[self.format]


@dataclass
class _Frame:
    image: Image.Image
    duration: int


def convert(data: bytes, options: ConvertOptions, settings: PipelineSettings) -> Result:
    """Decode, orient, resize, colour-correct and encode one upload."""
    notes: list[str] = []
    with open_image(data) as source:
        source_format = source.format or "unknown"
        frame_count = count_frames(source, data, options, settings)
        check_source_size(source.size, frame_count, settings)
        orientation = read_orientation(source, notes)
        plan = geometry.plan(oriented_size(source.size, orientation), options)
        check_output_size(plan, options)
        apply_draft(source, plan, orientation)
        check_memory(source, frame_count, plan, settings)
        check_encode_time(plan, frame_count, options, settings)
        profile = source.info.get("icc_profile")
        frames = [
            _Frame(
                render_frame(
                    image,
                    plan=plan,
                    orientation=orientation,
                    profile=profile,
                    options=options,
                    settings=settings,
                    notes=notes,
                ),
                duration,
            )
            for image, duration in decode_frames(source, frame_count)
        ]
        # A GIF without a NETSCAPE loop block plays once; WebP spells "once" as loop=1.
        loop = int(source.info.get("loop", 1))
        decoded_size = source.size
    encoded = encode(frames, loop, options, settings)
    first = frames[0].image
    return Result(
        data=encoded,
        format=options.format,
        width=first.width,
        height=first.height,
        frames=len(frames),
        source_format=source_format,
        source_width=plan.source_size[0],
        source_height=plan.source_size[1],
        decoded_size=decoded_size,
        notes=tuple(dict.fromkeys(notes)),
    )


def register_plugins() -> None:
    """Register the AVIF and HEIF decoders with Pillow; safe to call more than once."""
    _register_plugins()


@functools.cache
def _register_plugins() -> None:
    import pillow_avif  # noqa: F401  (importing replaces Pillow's own AVIF plugin)
    import pillow_heif

    Image.init()
    pillow_heif.register_heif_opener(thumbnails=False)


def open_image(data: bytes) -> Image.Image:
    """Identify the format from the bytes and read the header only; raise 415 for anything else."""
    register_plugins()
    if not data:
        msg = "the file is empty"
        raise UnsupportedFormat(msg)
    try:
        return Image.open(io.BytesIO(data), formats=ALLOWED_INPUTS)
    except UnidentifiedImageError:
        msg = "the file is not an image in a supported format (JPEG, PNG, GIF, WebP, AVIF, HEIF, TIFF, BMP)"
        raise UnsupportedFormat(msg) from None
    except Image.DecompressionBombError as exc:  # the header claims more pixels than Pillow will ever decode
        msg = f"the image is far larger than MAX_SOURCE_PIXELS allows: {_reason(exc)}"
        raise ImageTooLarge(msg) from None
    except Exception as exc:  # a recognised header that the plugin could not parse
        msg = f"the image header could not be read: {_reason(exc)}"
        raise UnprocessableImage(msg) from None


def count_frames(
    source: Image.Image, data: bytes, options: ConvertOptions, settings: PipelineSettings
) -> int:
    """How many frames we will decode: 1 unless the source is an animation and the caller wants it."""
    if not options.animated or source.format not in ANIMATED_INPUTS:
        return 1
    if source.format == "GIF":
        # Pillow's n_frames decodes every frame to find the next: count the blocks ourselves instead.
        return max(1, count_gif_frames(data, stop_after=settings.max_frames))
    try:
        return max(1, int(getattr(source, "n_frames", 1)))
    except Exception as exc:
        msg = f"the animation could not be read: {_reason(exc)}"
        raise UnprocessableImage(msg) from None


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
    if options.format == "webp" and max(width, height) > WEBP_MAX_SIDE:
        msg = (
            f"a {width}x{height} output exceeds WebP's {WEBP_MAX_SIDE} px side limit; "
            "ask for a smaller width or height"
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


def check_memory(source: Image.Image, frames: int, plan: Geometry, settings: PipelineSettings) -> None:
    """Refuse, before decoding, what would need more pixel memory than the per-worker budget.

    JPEG is counted at its draft size. The decoded frame is multiplied by the peak-to-pixels factor measured
    for its format; every output frame is kept until encoding. An enlarged strip (1x100000 to a width of
    4096) is caught here too.
    """
    width, height = source.size
    factor = PEAK_MEMORY_FACTOR.get(source.format or "", 2.5)
    if source.mode in ALPHA_MODES:
        factor += 1  # resizing with alpha works on a premultiplied copy
    needed = int(width * height * pixel_bytes(source.mode) * factor)
    needed += plan.canvas[0] * plan.canvas[1] * 4 * frames
    if needed > settings.max_decode_bytes:
        mib = 1024 * 1024
        msg = (
            f"converting this {width}x{height} {source.format} would need about {needed // mib} MiB of "
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
    plan: Geometry, frames: int, options: ConvertOptions, settings: PipelineSettings
) -> None:
    """Refuse up front an output that could not be encoded well inside the worker timeout."""
    seconds = estimate_encode_seconds(plan, frames, options, settings)
    if seconds > settings.max_encode_seconds:
        width, height = plan.canvas
        what = f"{width}x{height}" + (f" x {frames} frames" if frames > 1 else "")
        msg = (
            f"encoding {what} as {options.format.upper()} would take about {seconds:.0f} s, over the "
            f"{settings.max_encode_seconds:.0f} s limit (half of TIMEOUT); ask for a smaller width or height"
        )
        raise ImageTooLarge(msg, code="output_too_large")


def read_orientation(source: Image.Image, notes: list[str]) -> int:
    """The EXIF orientation (1-8); a missing or malformed EXIF block counts as 1."""
    try:
        value = source.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:
        notes.append("ignored_malformed_exif")
        return 1
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    notes.append("ignored_malformed_exif")
    return 1


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The size a stored image has once its orientation is applied (5-8 swap the sides)."""
    return (size[1], size[0]) if orientation >= 5 else size


def apply_draft(source: Image.Image, plan: Geometry, orientation: int) -> None:
    """Let JPEG decode at 1/2, 1/4 or 1/8 scale when that still covers what the resize needs."""
    if plan.scaled_source == plan.source_size:
        return
    box = oriented_size(plan.scaled_source, orientation)  # back to stored orientation
    try:
        source.draft(source.mode, box)
    except Exception:  # draft is an optimisation; a failure only costs time
        return


def decode_frames(source: Image.Image, frame_count: int) -> Iterator[tuple[Image.Image, int]]:
    """Yield each decoded frame with its duration in ms; decoding errors become 422."""
    for index in range(frame_count):
        try:
            if index:
                source.seek(index)
            source.load()
        except Exception as exc:
            msg = f"the image could not be decoded: {_reason(exc)}"
            raise UnprocessableImage(msg) from None
        yield source, int(source.info.get("duration") or 100)


def render_frame(
    image: Image.Image,
    *,
    plan: Geometry,
    orientation: int,
    profile: bytes | None,
    options: ConvertOptions,
    settings: PipelineSettings,
    notes: list[str],
) -> Image.Image:
    """Turn one decoded frame into the output frame: orient, normalise, resize, colour, pad."""
    decoded = image
    image = normalise_mode(image)
    image = apply_orientation(image, orientation)
    image = resize(image, plan)
    image = to_srgb(image, profile, settings.cmyk_profile, notes)
    image = pad(image, plan, options.format)
    if image is decoded:  # nothing changed the pixels: detach from the decoder, which moves to the next frame
        image = image.copy()
    image.info = {}
    return image


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Rotate or flip so the image is upright, as its EXIF orientation says."""
    for method in TRANSPOSE_FOR_ORIENTATION.get(orientation, ()):
        image = image.transpose(method)
    return image


# Modes the later steps handle as they are, and modes one plain convert() brings there without loss.
WORKING_MODES = ("L", "LA", "RGB", "RGBA", "CMYK")
PLAIN_CONVERSIONS = {
    "1": "L",
    "La": "LA",
    "PA": "RGBA",
    "RGBa": "RGBA",
    "RGBX": "RGB",
    "YCbCr": "RGB",
    "HSV": "RGB",
}


def normalise_mode(image: Image.Image) -> Image.Image:
    """Bring any pixel mode to 8-bit L, LA, RGB, RGBA or CMYK, keeping transparency and mid-tones."""
    mode = image.mode
    if mode in WORKING_MODES:
        return image
    if mode in PLAIN_CONVERSIONS:
        return image.convert(PLAIN_CONVERSIONS[mode])
    if mode == "P":
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    if mode.startswith("I") or mode == "F":
        return _deep_to_8bit(image)
    if mode == "LAB":
        lab_to_srgb = ImageCms.buildTransform(_LAB, _SRGB, "LAB", "RGB")
        return ImageCms.applyTransform(image, lab_to_srgb)
    msg = f"images in pixel mode {mode} are not supported"
    raise UnsupportedFormat(msg)


def _deep_to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and float greys to 8-bit L by scaling, where convert("L") would clip above 255 to white."""
    if image.mode == "F":
        high = image.getextrema()[1]
        scale = 255.0 if isinstance(high, float) and high <= 1.0 else 1.0
        return image.point(lambda value: value * scale).convert("L")
    return image.convert("I").point(lambda value: value * (1 / 257)).convert("L")


def resize(image: Image.Image, plan: Geometry) -> Image.Image:
    """Scale (and for cover, crop) to the planned size; the box is mapped onto a drafted image."""
    target = plan.resized
    scale_x = image.width / plan.source_size[0]
    scale_y = image.height / plan.source_size[1]
    box = plan.crop_box
    if box is None and image.size == target:
        return image
    if box is not None:
        box = (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)
    return image.resize(target, RESAMPLE, box=box, reducing_gap=REDUCING_GAP)


def to_srgb(image: Image.Image, profile: bytes | None, cmyk_profile: bytes, notes: list[str]) -> Image.Image:
    """Convert to sRGB RGB/RGBA through the embedded ICC profile; untagged input is taken as sRGB."""
    color, alpha = _split_alpha(image)
    if profile and not _is_srgb(profile):
        color = _apply_profile(color, profile, notes)
    if color.mode == "CMYK":
        color = ImageCms.applyTransform(color, _transform_to_srgb(cmyk_profile, "CMYK"))
    if color.mode != "RGB":
        color = color.convert("RGB")
    if alpha is None or alpha.getextrema() == (255, 255):
        return color
    color.putalpha(alpha)
    return color


def _apply_profile(color: Image.Image, profile: bytes, notes: list[str]) -> Image.Image:
    """Colour through an embedded profile; a profile that is broken or does not fit the pixels is ignored."""
    if _profile_space(profile) == "GRAY" and color.mode == "RGB":
        color = color.convert("L")  # Pillow decodes some grey PNGs (16-bit grey+alpha) as RGB(A)
    try:
        return ImageCms.applyTransform(color, _transform_to_srgb(profile, color.mode))
    except Exception:
        notes.append("ignored_broken_icc_profile")
        return color


def _split_alpha(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    if image.mode == "RGBA":
        return image.convert("RGB"), image.getchannel("A")
    if image.mode == "LA":
        return image.convert("L"), image.getchannel("A")
    return image, None


def _is_srgb(profile: bytes) -> bool:
    description = _profile_description(profile)
    return description is not None and description.lower().startswith("srgb")


@functools.lru_cache(maxsize=32)
def _profile_description(profile: bytes) -> str | None:
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(profile))).strip()
    except Exception:
        return None


@functools.lru_cache(maxsize=32)
def _profile_space(profile: bytes) -> str | None:
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(profile)).profile.xcolor_space.strip()
    except Exception:
        return None


@functools.lru_cache(maxsize=32)
def _transform_to_srgb(profile: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    return ImageCms.buildTransform(source, _SRGB, mode, "RGB")


_SRGB = ImageCms.createProfile("sRGB")
_LAB = ImageCms.createProfile("LAB")


def pad(image: Image.Image, plan: Geometry, output_format: str) -> Image.Image:
    """For fit=contain, centre the image on the exact box: transparent, or white for JPEG."""
    if image.size == plan.canvas:
        return image
    if output_format == "jpeg":
        canvas = Image.new("RGB", plan.canvas, (255, 255, 255))
    else:
        canvas = Image.new("RGBA", plan.canvas, (0, 0, 0, 0))
    offset = ((plan.canvas[0] - image.width) // 2, (plan.canvas[1] - image.height) // 2)
    canvas.paste(image, offset)
    return canvas


def encode(frames: list[_Frame], loop: int, options: ConvertOptions, settings: PipelineSettings) -> bytes:
    """Encode the frames in the requested format, with no metadata at all."""
    buffer = io.BytesIO()
    ENCODERS[options.format](buffer, frames, loop, options, settings)
    return buffer.getvalue()


def _animation_args(frames: list[_Frame], loop: int) -> dict[str, object]:
    if len(frames) == 1:
        return {}
    return {
        "save_all": True,
        "append_images": [frame.image for frame in frames[1:]],
        "duration": [frame.duration for frame in frames],
        "loop": loop,
    }


def _uniform_mode(frames: list[_Frame]) -> list[_Frame]:
    """Animations need one mode for every frame; RGBA if any frame has transparency."""
    if len(frames) == 1:
        return frames
    mode = "RGBA" if any(frame.image.mode == "RGBA" for frame in frames) else "RGB"
    return [_Frame(frame.image.convert(mode), frame.duration) for frame in frames]


def _encode_webp(buffer, frames, loop, options, settings) -> None:
    frames = _uniform_mode(frames)
    frames[0].image.save(
        buffer,
        "WEBP",
        # For lossless WebP, quality is compression effort, not fidelity: fix it so the caller's is ignored.
        quality=LOSSLESS_WEBP_EFFORT if options.lossless else options.quality,
        method=settings.webp_method,
        lossless=options.lossless,
        exif=b"",
        xmp=b"",
        icc_profile=None,
        **_animation_args(frames, loop),
    )


def _encode_avif(buffer, frames, loop, options, settings) -> None:
    frames = _uniform_mode(frames)
    if options.lossless:
        quality, subsampling = 100, "4:4:4"
    else:
        quality, subsampling = avif_quality(options.quality), "4:2:0"
    args = _animation_args(frames, loop)
    args.pop("loop", None)  # pillow-avif-plugin writes no loop count: AVIF sequences always repeat
    frames[0].image.save(
        buffer,
        "AVIF",
        quality=quality,
        subsampling=subsampling,
        speed=settings.avif_speed,
        codec=settings.avif_codec,
        max_threads=1,
        exif=b"",
        xmp=b"",
        icc_profile=b"",
        **args,
    )


def avif_quality(quality: int) -> int:
    """The AVIF encoder quality for a caller's quality: two steps up, so that quality 80 from aom at speed 9
    makes files the size rav1e's speed 6 made at 80, at 24x the speed (docs/performance.md)."""
    return min(100, quality + AVIF_QUALITY_OFFSET)


def _encode_jpeg(buffer, frames, loop, options, settings) -> None:
    image = frames[0].image
    if image.mode == "RGBA":
        flattened = Image.new("RGB", image.size, (255, 255, 255))
        flattened.paste(image, mask=image.getchannel("A"))
        image = flattened
    image.save(buffer, "JPEG", quality=options.quality, optimize=True, progressive=True)


def _encode_png(buffer, frames, loop, options, settings) -> None:
    frames = _uniform_mode(frames)
    frames[0].image.save(buffer, "PNG", optimize=len(frames) == 1, **_animation_args(frames, loop))


ENCODERS = {"webp": _encode_webp, "avif": _encode_avif, "jpeg": _encode_jpeg, "png": _encode_png}


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]


def encoders_problem(avif_codec: str) -> str | None:
    """Why the configured encoders cannot run here, or None when they all can."""
    register_plugins()
    from pillow_avif import _avif

    if not _avif.encoder_codec_available(avif_codec):
        return f"the AVIF encoder {avif_codec!r} is not built into pillow-avif-plugin here"
    missing = [name for name in ("WEBP", "AVIF", "JPEG", "PNG") if name not in Image.SAVE]
    if missing:
        return f"Pillow lacks the {', '.join(missing)} encoder"
    return None
