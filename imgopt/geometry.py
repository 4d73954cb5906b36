"""Output geometry: from the upright source size and the caller's width/height/fit/enlarge to exact sizes.

Pure arithmetic, kept apart from pixels so every rule of docs/api.md is tested as a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from .options import ConvertOptions


@dataclass(frozen=True)
class Geometry:
    """Sizes for one conversion, all in upright (oriented) coordinates."""

    source_size: tuple[int, int]
    # The whole source at the output scale: what JPEG draft decoding must still cover.
    scaled_source: tuple[int, int]
    # Size produced by the resize step.
    resized: tuple[int, int]
    # Region of the source that is resized (fit=cover crops); None means all of it.
    crop_box: tuple[float, float, float, float] | None
    # Final output size; larger than ``resized`` only for fit=contain (padding).
    canvas: tuple[int, int]


def plan(source_size: tuple[int, int], options: ConvertOptions) -> Geometry:
    """Work out the output sizes for an upright source of ``source_size``."""
    width, height = options.width, options.height
    if width and height:
        return _plan_box(source_size, (width, height), options.fit, options.enlarge)
    if width or height:
        return _plan_one_side(source_size, width, height, options.enlarge)
    return _unchanged(source_size)


def _unchanged(source_size: tuple[int, int]) -> Geometry:
    return Geometry(source_size, source_size, source_size, None, source_size)


def _scaled(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return (max(1, round(size[0] * factor)), max(1, round(size[1] * factor)))


def _plan_one_side(
    source_size: tuple[int, int], width: int | None, height: int | None, enlarge: bool
) -> Geometry:
    source_width, source_height = source_size
    if width:
        factor = width / source_width
        if factor > 1 and not enlarge:
            return _unchanged(source_size)
        size = (width, max(1, round(source_height * factor)))
    else:
        assert height is not None
        factor = height / source_height
        if factor > 1 and not enlarge:
            return _unchanged(source_size)
        size = (max(1, round(source_width * factor)), height)
    return Geometry(source_size, size, size, None, size)


def _fit_box(source_size: tuple[int, int], box: tuple[int, int], enlarge: bool) -> tuple[int, int]:
    """Without enlarge, shrink a box that is larger than the source uniformly until it fits."""
    if enlarge or (box[0] <= source_size[0] and box[1] <= source_size[1]):
        return box
    factor = min(source_size[0] / box[0], source_size[1] / box[1])
    return _scaled(box, factor)


def _plan_box(source_size: tuple[int, int], box: tuple[int, int], fit: str, enlarge: bool) -> Geometry:
    source_width, source_height = source_size
    if fit == "inside":
        factor = min(box[0] / source_width, box[1] / source_height)
        if not enlarge:
            factor = min(factor, 1.0)
        size = _scaled(source_size, factor)
        return Geometry(source_size, size, size, None, size)
    box = _fit_box(source_size, box, enlarge)
    if fit == "fill":
        return Geometry(source_size, box, box, None, box)
    if fit == "cover":
        factor = max(box[0] / source_width, box[1] / source_height)
        crop_width, crop_height = box[0] / factor, box[1] / factor
        left = (source_width - crop_width) / 2
        top = (source_height - crop_height) / 2
        crop = (left, top, left + crop_width, top + crop_height)
        return Geometry(source_size, _scaled(source_size, factor), box, crop, box)
    # contain: the whole image inside the box, padded to the box
    factor = min(box[0] / source_width, box[1] / source_height)
    size = _scaled(source_size, factor)
    return Geometry(source_size, size, size, None, box)
