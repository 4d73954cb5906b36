"""Output geometry: from the upright source size and the caller's fields to exact sizes and the source
region to resize. Pure arithmetic, kept apart from pixels so every rule of docs/api.md is tested as a table.

Framing happens here: ``crop`` cuts a rectangle first (everything else applies to it as if it were the whole
image); ``fit=cover`` then keeps a window of the box's aspect ratio, placed by ``focus``, by ``gravity``, or,
for ``gravity=smart``, later, once the pixels are known (``place``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from imgopt.errors import InvalidOption
from imgopt.imaging.options import ConvertOptions

Box = tuple[float, float, float, float]


# The point of the region each gravity centres the cover window on (0 = left/top edge, 1 = right/bottom); the
# window stays inside the region, so an edge point puts the window against that edge.
GRAVITY_ANCHORS = {
    "center": (0.5, 0.5),
    "smart": (0.5, 0.5),  # until the pixels are seen; also the fallback
    "north": (0.5, 0.0),
    "south": (0.5, 1.0),
    "east": (1.0, 0.5),
    "west": (0.0, 0.5),
    "northeast": (1.0, 0.0),
    "northwest": (0.0, 0.0),
    "southeast": (1.0, 1.0),
    "southwest": (0.0, 1.0),
}


@dataclass(frozen=True)
class Geometry:
    """Sizes for one conversion, all in upright (oriented) coordinates."""

    source_size: tuple[int, int]
    # The whole source at the output scale: what JPEG draft decoding must still cover.
    scaled_source: tuple[int, int]
    # Size produced by the resize step.
    resized: tuple[int, int]
    # Region of the source that is resized (a crop, a cover window); None means all of it.
    crop_box: Box | None
    # Final output size; larger than ``resized`` only for fit=contain (padding).
    canvas: tuple[int, int]
    # For gravity=smart with a cover window: the region the window may move in (source pixels). The window
    # is centred until ``place`` moves it.
    smart_region: Box | None = None

    @property
    def window_fraction(self) -> tuple[float, float]:
        """The cover window's size as fractions of the smart region."""
        if self.smart_region is None or self.crop_box is None:
            return (1.0, 1.0)
        region, box = self.smart_region, self.crop_box
        return (box[2] - box[0]) / (region[2] - region[0]), (box[3] - box[1]) / (region[3] - region[1])


def plan(source_size: tuple[int, int], options: ConvertOptions) -> Geometry:
    """Work out the output sizes and the source region for an upright source of ``source_size``."""
    region = _region(source_size, options.crop)
    region_size = (region[2] - region[0], region[3] - region[1])
    factor, resized, window, canvas = _sizes(region_size, options)
    if window is None:
        crop_box = None if options.crop is None else tuple(float(edge) for edge in region)
        smart_region = None
    else:
        left, top = _centred(_anchor(options), region_size, window)
        crop_box = (
            region[0] + left,
            region[1] + top,
            region[0] + left + window[0],
            region[1] + top + window[1],
        )
        smart_region = tuple(float(edge) for edge in region) if _wants_smart(options) else None
    scaled = source_size if factor == (1.0, 1.0) else _scaled_axes(source_size, factor)
    return Geometry(source_size, scaled, resized, crop_box, canvas, smart_region)  # type: ignore[arg-type]


def place(geometry: Geometry, point: tuple[float, float] | None) -> Geometry:
    """The plan with its smart cover window centred on ``point`` (fractions of the smart region), as near as
    the region's edges allow; ``None`` keeps the centre. Plans without a smart window are returned as is."""
    if geometry.smart_region is None or geometry.crop_box is None or point is None:
        return geometry
    region, box = geometry.smart_region, geometry.crop_box
    window = (box[2] - box[0], box[3] - box[1])
    left, top = _centred(point, (region[2] - region[0], region[3] - region[1]), window)
    left, top = region[0] + left, region[1] + top
    return replace(geometry, crop_box=(left, top, left + window[0], top + window[1]))


def _region(
    source_size: tuple[int, int], crop: tuple[int, int, int, int] | None
) -> tuple[int, int, int, int]:
    """The crop rectangle as a box (or the whole image); 400 invalid_crop when it does not fit."""
    if crop is None:
        return (0, 0, *source_size)
    x, y, width, height = crop
    if x + width > source_size[0] or y + height > source_size[1]:
        msg = (
            f"crop {x},{y},{width},{height} does not fit the image, which is "
            f"{source_size[0]}x{source_size[1]} upright (after its EXIF orientation): x + width and "
            "y + height must not exceed that"
        )
        raise InvalidOption("crop", msg)
    return (x, y, x + width, y + height)


def _anchor(options: ConvertOptions) -> tuple[float, float]:
    """The point of the region the cover window is centred on: the focus, or the gravity's anchor."""
    return GRAVITY_ANCHORS[options.gravity] if options.focus is None else options.focus


def _centred(
    point: tuple[float, float], region: tuple[float, float], window: tuple[float, float]
) -> tuple[float, float]:
    """The window's top-left corner (region pixels) centred on ``point`` (fractions), kept inside the region:
    a point at an edge (a compass gravity) puts the window against that edge."""
    left = _clamp(point[0] * region[0] - window[0] / 2, 0.0, region[0] - window[0])
    top = _clamp(point[1] * region[1] - window[1] / 2, 0.0, region[1] - window[1])
    return left, top


def _wants_smart(options: ConvertOptions) -> bool:
    return options.gravity == "smart" and options.focus is None


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))


Sizes = tuple[tuple[float, float], tuple[int, int], tuple[float, float] | None, tuple[int, int]]


def _sizes(region: tuple[int, int], options: ConvertOptions) -> Sizes:
    """(output scale per axis, resized size, cover window in region pixels or None, canvas) for a region."""
    width, height = options.width, options.height
    if width and height:
        return _box_sizes(region, (width, height), options.fit, options.enlarge)
    if width or height:
        return _one_side_sizes(region, width, height, options.enlarge)
    return (1.0, 1.0), region, None, region


def _scaled(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return (max(1, round(size[0] * factor)), max(1, round(size[1] * factor)))


def _scaled_axes(size: tuple[int, int], factor: tuple[float, float]) -> tuple[int, int]:
    return (max(1, round(size[0] * factor[0])), max(1, round(size[1] * factor[1])))


def _one_side_sizes(region: tuple[int, int], width: int | None, height: int | None, enlarge: bool) -> Sizes:
    region_width, region_height = region
    if width:
        factor = width / region_width
        size = (width, max(1, round(region_height * factor)))
    else:
        assert height is not None
        factor = height / region_height
        size = (max(1, round(region_width * factor)), height)
    if factor > 1 and not enlarge:
        return (1.0, 1.0), region, None, region
    return (factor, factor), size, None, size


def _fit_box(region: tuple[int, int], box: tuple[int, int], enlarge: bool) -> tuple[int, int]:
    """Without enlarge, shrink a box that is larger than the region uniformly until it fits."""
    if enlarge or (box[0] <= region[0] and box[1] <= region[1]):
        return box
    factor = min(region[0] / box[0], region[1] / box[1])
    return _scaled(box, factor)


def _box_sizes(region: tuple[int, int], box: tuple[int, int], fit: str, enlarge: bool) -> Sizes:
    region_width, region_height = region
    if fit == "inside":
        factor = min(box[0] / region_width, box[1] / region_height)
        if not enlarge:
            factor = min(factor, 1.0)
        size = _scaled(region, factor)
        return (factor, factor), size, None, size
    box = _fit_box(region, box, enlarge)
    if fit == "fill":
        return (box[0] / region_width, box[1] / region_height), box, None, box
    if fit == "cover":
        factor = max(box[0] / region_width, box[1] / region_height)
        return (factor, factor), box, (box[0] / factor, box[1] / factor), box
    # contain: the whole region inside the box, padded to the box
    factor = min(box[0] / region_width, box[1] / region_height)
    size = _scaled(region, factor)
    return (factor, factor), size, None, box


@dataclass(frozen=True)
class Grid:
    """How upright source coordinates map onto a decoded (possibly reduced) upright image.

    libjpeg decodes at 1/k (k = 2, 4, 8) with ceil-rounded sizes: decoded pixel i covers stored pixels
    [k*i, k*i + k). On an axis the EXIF orientation reverses, the part-covered last pixel comes first, which
    shifts the grid. Any other reduction (a HEIF thumbnail) is a plain scaled copy.
    """

    scale: tuple[float, float] = (1.0, 1.0)
    offset: tuple[float, float] = (0.0, 0.0)

    def map_box(self, box: Box) -> Box:
        """A box in upright source pixels as a box in decoded pixels."""
        (sx, sy), (ox, oy) = self.scale, self.offset
        return ((box[0] + ox) * sx, (box[1] + oy) * sy, (box[2] + ox) * sx, (box[3] + oy) * sy)


# The reductions libjpeg decodes at.
DCT_SCALES = (2, 4, 8)


# Upright axes that run against the stored axis they come from, per EXIF orientation (x, y).
REVERSED_AXES = {
    1: (False, False),
    2: (True, False),
    3: (True, True),
    4: (False, True),
    5: (False, False),
    6: (True, False),
    7: (True, True),
    8: (False, True),
}


def grid(source: tuple[int, int], decoded: tuple[int, int], orientation: int) -> Grid:
    """The grid of an upright decode of size ``decoded`` of an upright source of size ``source``."""
    scales, offsets = [], []
    for source_side, decoded_side, reversed_axis in zip(
        source, decoded, REVERSED_AXES[orientation], strict=True
    ):
        if decoded_side == source_side:
            scales.append(1.0)
            offsets.append(0.0)
            continue
        k = round(source_side / decoded_side)
        if k not in DCT_SCALES or not 0 <= k * decoded_side - source_side < k:
            scales.append(decoded_side / source_side)
            offsets.append(0.0)
            continue
        scales.append(1 / k)
        offsets.append(float(k * decoded_side - source_side) if reversed_axis else 0.0)
    return Grid((scales[0], scales[1]), (offsets[0], offsets[1]))
