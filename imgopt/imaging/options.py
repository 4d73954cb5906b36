"""What a caller may ask of one output: the frozen ConvertOptions and the values each field may take.

Parsing form text into these lives in the HTTP layer (imgopt/http/forms.py); the pipeline only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# The fields that shape an output, declared with their error codes (imgopt/errors.py).
from imgopt.errors import OPTION_FIELDS  # noqa: F401  (re-exported: callers read it from here)
from imgopt.imaging.operations.spec import Operation

OUTPUT_FORMATS = ("webp", "avif", "jpeg", "png", "auto")
# Formats quality=auto can search, and the ones format=auto chooses between.
LOSSY_FORMATS = ("webp", "avif", "jpeg")
AUTO_FORMATS = ("webp", "avif")
# The perceptual targets (SSIMULACRA2) a caller may ask quality=auto for.
TARGET_RANGE = (50.0, 95.0)
FITS = ("fill", "inside", "cover", "contain")
GRAVITIES = (
    "center",
    "north",
    "south",
    "east",
    "west",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
    "smart",
)


@dataclass(frozen=True)
class AutoWidths:
    """widths=auto in /variants: the service chooses a rendition's widths from the bytes real encodes cost, in
    this range, at most this many, each at least this many bytes from the next (imgopt/imaging/widths.py)."""

    min_width: int = 320
    max_width: int = 1920
    max_images: int = 6
    bytes_step: int = 4096


@dataclass(frozen=True)
class ConvertOptions:
    """What the caller asked for; the pipeline's only input besides the bytes and the limits."""

    format: str = "webp"
    # None: the service's DEFAULT_QUALITY (``with_default_quality``).
    quality: int | None = None
    # quality=auto: search the quality for ``target`` (or the service's AUTO_QUALITY_TARGET).
    auto_quality: bool = False
    target: float | None = None
    width: int | None = None
    height: int | None = None
    fit: str = "fill"
    enlarge: bool = False
    lossless: bool = False
    animated: bool = True
    # A rectangle (x, y, width, height) of the upright source, cut before anything else.
    crop: tuple[int, int, int, int] | None = None
    # Which part fit=cover keeps; "smart" looks at the pixels.
    gravity: str = "center"
    # A point (fractions of the upright image, or of the crop) that fit=cover keeps near the centre.
    focus: tuple[float, float] | None = None
    # A colour (r, g, b) the output is flattened onto (no transparency left) and fit=contain pads with.
    background: tuple[int, int, int] | None = None
    # /variants only: this rendition stands for several, at widths the service chooses.
    widths: AutoWidths | None = None
    # Pixel operations after the geometry, in order (imgopt/imaging/operations/).
    operations: tuple[Operation, ...] = ()


def with_default_quality(options: ConvertOptions, default_quality: int) -> ConvertOptions:
    """The options with an unset quality filled in from the service's DEFAULT_QUALITY."""
    return options if options.quality is not None else replace(options, quality=default_quality)
