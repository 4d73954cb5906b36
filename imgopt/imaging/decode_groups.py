"""Which decodes a set needs: its renditions, and the placeholder, grouped by the size their decode has.

JPEG decodes at 1/2, 1/4 or 1/8 scale and HEIF from an embedded thumbnail; a rendition uses the scale a
conversion of it alone would use, so its pixels match /convert's. A decoder runs once per open of the
upload, so the upload is opened once per distinct decode, and the header's own open serves the largest:
JPEG's decode sizes follow from the header; a HEIF thumbnail is chosen (and read) by the plugin's draft, so
an open made to learn its size is kept as that decode's source. Every other format has one decode, at full
size, from the header's open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from PIL import Image

from imgopt.imaging import source
from imgopt.imaging.buffer import Buffer
from imgopt.imaging.describe.placeholder import PROXY_SIDE
from imgopt.imaging.set_plan import Wanted
from imgopt.imaging.source import Survey

# The box the placeholder's decode must cover: JPEG is decoded at 1/8 for it.
PLACEHOLDER_BOX = (PROXY_SIDE, PROXY_SIDE)


@dataclass(eq=False)
class DecodeGroup:
    """One decode and everything made from it: the box it must cover, its size, what is made from it."""

    # Upright pixels the decode must cover; the size it has (stored orientation).
    box: tuple[int, int]
    size: tuple[int, int]
    wanted: list[Wanted] = field(default_factory=list)
    makes_placeholder: bool = False
    # The upload already opened for this decode (the header's open, a drafted HEIF); None: opened when made.
    opened: Image.Image | None = None
    # widths=auto renditions that may make more from this decode once their ends are encoded: it is kept
    # until each has (imgopt/imaging/set_maker.py); and what they asked for before it was decoded.
    holds: int = 0
    late: list[Wanted] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return max([1, *(item.frame_count for item in self.wanted)])

    @property
    def pixels(self) -> int:
        return self.size[0] * self.size[1]

    def open(self, data: Buffer) -> Image.Image:
        """The upload opened for this decode; the caller closes it."""
        opened, self.opened = self.opened, None
        return opened if opened is not None else source.open_image(data)

    def close(self) -> None:
        """Close an open that was never decoded (the set failed first)."""
        if self.opened is not None:
            self.opened.close()
            self.opened = None


def decode_size(
    box: tuple[int, int], survey: Survey, data: Buffer, opened: Image.Image | None = None
) -> tuple[tuple[int, int], Image.Image | None]:
    """The size the upload decodes at to cover ``box`` (upright pixels), and for HEIF the open whose draft
    chose it (``opened``, or one of its own), to be kept as that decode's source."""
    if survey.format == "HEIF":
        opened = opened or source.open_image(data)
        source.apply_draft(opened, box, survey.orientation)
        return opened.size, opened
    if survey.format == "JPEG":
        return source.jpeg_draft_size(survey.size, source.oriented_size(box, survey.orientation)), opened
    return survey.size, opened


def group_by_decode(
    header: Image.Image, data: Buffer, survey: Survey, wanted: Iterable[Wanted], *, placeholder: bool
) -> list[DecodeGroup]:
    """The decodes the renditions (and with ``placeholder`` the placeholder) need, largest first."""
    boxes: dict[tuple[int, int], list[Wanted]] = {}
    for item in wanted:
        boxes.setdefault(item.plan.scaled_source, []).append(item)
    if placeholder:
        boxes.setdefault(PLACEHOLDER_BOX, [])
    groups: dict[tuple[int, int], DecodeGroup] = {}
    for box, items in sorted(boxes.items(), key=lambda entry: entry[0][0] * entry[0][1], reverse=True):
        size, opened = decode_size(box, survey, data, header if not groups else None)
        group = groups.get(size)
        if group is None:
            group = groups[size] = DecodeGroup(box, size, opened=opened)
        elif opened is not None and opened is not header:
            opened.close()
        group.wanted.extend(items)
        group.makes_placeholder |= placeholder and box == PLACEHOLDER_BOX
    return sorted(groups.values(), key=lambda group: group.pixels, reverse=True)
