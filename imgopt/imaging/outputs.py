"""What the pipeline gives back: encoded renditions, and a set of them with the source's facts."""

from __future__ import annotations

from dataclasses import dataclass

from imgopt.imaging.codecs import MEDIA_TYPES
from imgopt.imaging.describe.facts import SourceFacts
from imgopt.imaging.describe.placeholder import Placeholder
from imgopt.imaging.geometry import Box


@dataclass(frozen=True)
class Rendition:
    """One encoded output: the only output type the pipeline has."""

    # The caller's name for it ("" for the single output of /convert).
    name: str
    data: bytes
    format: str
    width: int
    height: int
    frames: int
    # The encoder quality used (None for lossless outputs), and with quality=auto the SSIMULACRA2 reached.
    quality: int | None = None
    score: float | None = None
    # With quality=auto, the encodes its search made in this format (1: the predicted quality was enough).
    probes: int | None = None
    # The region of the upright source it shows (source pixels): a crop or a cover window; None for all.
    crop_box: Box | None = None

    @property
    def media_type(self) -> str:
        """The Content-Type of ``data``."""
        return MEDIA_TYPES[self.format]


@dataclass(frozen=True)
class RenditionSet:
    """A set's outputs in request order, with the source's facts and (when described) its placeholder."""

    source: SourceFacts
    placeholder: Placeholder | None
    renditions: tuple[Rendition, ...]
    # Size of each decode made, largest first (JPEG decodes at reduced scales).
    decoded_sizes: tuple[tuple[int, int], ...] = ()
    # Per rendition, in request order: the size of the image it was resized from (its decode, or the
    # intermediate of a larger rendition).
    resized_from: tuple[tuple[int, int], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def rendition(self) -> Rendition:
        """The one rendition of a single conversion."""
        (only,) = self.renditions
        return only
