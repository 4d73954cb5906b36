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
from imgopt.imaging.geometry import Geometry
from imgopt.imaging.options import ConvertOptions

# The box the placeholder's decode must cover: JPEG is decoded at 1/8 for it.
PLACEHOLDER_BOX = (PROXY_SIDE, PROXY_SIDE)


@dataclass
class Wanted:
    """One requested rendition: its place in the request, name, options, geometry and frame count."""

    index: int
    name: str
    options: ConvertOptions
    plan: Geometry
    frame_count: int

    @property
    def canvas_pixels(self) -> int:
        return self.plan.canvas[0] * self.plan.canvas[1]


@dataclass
class DecodeGroup:
    """One decode and everything made from it: the box it must cover, its size, what is made from it."""

    # Upright pixels the decode must cover; the size it has (stored orientation).
    box: tuple[int, int]
    size: tuple[int, int]
    wanted: list[Wanted] = field(default_factory=list)
    makes_placeholder: bool = False
    # The upload already opened for this decode (the header's open, a drafted HEIF); None: opened when made.
    opened: Image.Image | None = None

    @property
    def frame_count(self) -> int:
        return max([1, *(item.frame_count for item in self.wanted)])

    def open(self, data: Buffer) -> Image.Image:
        """The upload opened for this decode; the caller closes it."""
        opened, self.opened = self.opened, None
        return opened if opened is not None else source.open_image(data)

    def close(self) -> None:
        """Close an open that was never decoded (the set failed first)."""
        if self.opened is not None:
            self.opened.close()
            self.opened = None


def group_by_decode(
    header: Image.Image, data: Buffer, wanted: Iterable[Wanted], orientation: int, *, placeholder: bool
) -> list[DecodeGroup]:
    """The decodes the renditions (and with ``placeholder`` the placeholder) need, largest first."""
    boxes: dict[tuple[int, int], list[Wanted]] = {}
    for item in wanted:
        boxes.setdefault(item.plan.scaled_source, []).append(item)
    if placeholder:
        boxes.setdefault(PLACEHOLDER_BOX, [])
    groups: dict[tuple[int, int], DecodeGroup] = {}
    for box, items in sorted(boxes.items(), key=lambda entry: entry[0][0] * entry[0][1], reverse=True):
        opened = header if not groups else None
        if header.format == "HEIF":
            opened = opened or source.open_image(data)
            source.apply_draft(opened, box, orientation)
            size = opened.size
        elif header.format == "JPEG":
            size = source.jpeg_draft_size(header.size, source.oriented_size(box, orientation))
        else:
            size = header.size
        group = groups.get(size)
        if group is None:
            group = groups[size] = DecodeGroup(box, size, opened=opened)
        elif opened is not None and opened is not header:
            opened.close()
        group.wanted.extend(items)
        group.makes_placeholder |= placeholder and box == PLACEHOLDER_BOX
    return sorted(groups.values(), key=lambda group: group.size[0] * group.size[1], reverse=True)
