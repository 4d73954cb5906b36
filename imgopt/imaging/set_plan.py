"""What a set will make, planned from the header before any pixel is decoded.

Every requested rendition gets its geometry and frame count. A widths=auto rendition is planned as its two
ends, made with the rest of the set; the widths between them are planned once the ends' bytes are known
(``between``), and until then the budgets count the most that the rule could choose (widths.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from PIL import Image

from imgopt.errors import InvalidOption
from imgopt.imaging import geometry, operations, widths
from imgopt.imaging.geometry import Geometry
from imgopt.imaging.operations import Assets
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.other_images import decode_other
from imgopt.imaging.outputs import Rendition
from imgopt.imaging.settings import PipelineSettings
from imgopt.imaging.source import Survey

# Output formats that hold one frame: an animated source gives them its first.
STILL_FORMATS = ("jpeg",)


@dataclass
class Wanted:
    """One rendition to make: its place among the set's renditions, name, options, geometry and frames."""

    index: int
    name: str
    options: ConvertOptions
    plan: Geometry
    frame_count: int
    # The output's size: the plan's canvas, as the operations leave it (a border that expands it).
    output_size: tuple[int, int] = (0, 0)

    @property
    def canvas_pixels(self) -> int:
        return self.plan.canvas[0] * self.plan.canvas[1]

    @property
    def output(self) -> Geometry:
        """The plan as the budgets and the format's limits see it: with the output's own size."""
        return replace(self.plan, canvas=self.output_size)


@dataclass
class AutoRendition:
    """One widths=auto rendition: its two ends, made with the set, and the widths chosen from their bytes."""

    name: str
    options: ConvertOptions
    low: int
    high: int
    # The ends by width (one when the range is a single width).
    ends: dict[int, Wanted]
    # The ends' bytes by width, as they are encoded.
    end_bytes: dict[int, int] = field(default_factory=dict)
    chosen: list[int] | None = None

    def end_width(self, item: Wanted) -> int | None:
        """The width of which ``item`` is this rendition's end, or None."""
        return next((width for width, end in self.ends.items() if end is item), None)

    def chosen_names(self) -> list[str]:
        assert self.chosen is not None
        return [f"{self.name}-{width}" for width in self.chosen]


@dataclass
class SetPlan:
    """The renditions to make first, the widths=auto ones that add more later, and the request's order."""

    source: Survey
    wanted: list[Wanted]
    autos: list[AutoRendition]
    # The request's names in order; an auto rendition stands for the widths it chooses.
    order: list[str | AutoRendition]
    # Everything the budgets count: ``wanted`` and the most each auto rendition could add.
    budgeted: list[Wanted]
    # What the operations need besides the frame (a decoded watermark), made once for the set.
    assets: Assets = field(default_factory=dict)
    decode: Callable[[bytes, str], Image.Image] | None = None

    @classmethod
    def of(
        cls,
        requests: list[tuple[str, ConvertOptions]],
        source: Survey,
        settings: PipelineSettings,
        notes: list[str],
    ) -> SetPlan:
        """Plan every rendition; the operations' other images (a watermark) are decoded here, once, with the
        upload's checks, before any pixel of the upload is."""
        plan = cls(source, [], [], [], [], decode=partial(decode_other, settings=settings, notes=notes))
        for name, options in requests:
            if options.widths is None:
                plan.order.append(name)
                plan.wanted.append(plan.planned(name, options))
                continue
            low, high = widths.ends(options, source.upright_size[0])
            ends = {}
            for width in sorted({low, high}):
                ends[width] = plan.planned(f"{name}-{width}", at_width(options, width))
                plan.wanted.append(ends[width])
            auto = AutoRendition(name, options, low, high, ends)
            plan.autos.append(auto)
            plan.order.append(auto)
        plan.budgeted = list(plan.wanted)
        for auto in plan.autos:
            assert auto.options.widths is not None
            most = widths.most(auto.low, auto.high, auto.options.widths)
            plan.budgeted.extend(
                plan.planned(f"{auto.name}-{width}", at_width(auto.options, width), index=-1)
                for width in most
                if width not in (auto.low, auto.high)
            )
        return plan

    def planned(self, name: str, options: ConvertOptions, *, index: int | None = None) -> Wanted:
        """A rendition planned: its geometry (a crop that does not fit names it) and frames."""
        try:
            shape = geometry.plan(self.source.upright_size, options)
        except InvalidOption as error:
            if not name:
                raise
            msg = f"variant {name!r}: {error.message}"
            raise InvalidOption(error.field, msg) from None
        frames = self.source.frames if options.animated and options.format not in STILL_FORMATS else 1
        try:
            output_size = operations.final_size(shape.canvas, options.operations)
        except InvalidOption as error:
            if not name:
                raise
            raise InvalidOption(error.field, f"variant {name!r}: {error.message}") from None
        operations.prepare(options.operations, self.assets, self.decode)
        return Wanted(len(self.wanted) if index is None else index, name, options, shape, frames, output_size)

    @property
    def most_frames(self) -> int:
        return max([1, *(item.frame_count for item in self.wanted)])

    def auto_of(self, item: Wanted) -> AutoRendition | None:
        """The auto rendition ``item`` is an end of, if any."""
        return next((auto for auto in self.autos if auto.end_width(item) is not None), None)

    def between(self, auto: AutoRendition, chosen: list[int]) -> list[Wanted]:
        """The chosen widths that are not ends, planned and added to ``wanted``."""
        auto.chosen = chosen
        added = []
        for width in chosen:
            if width not in auto.ends:
                item = self.planned(f"{auto.name}-{width}", at_width(auto.options, width))
                self.wanted.append(item)
                added.append(item)
        return added

    def in_request_order(self, results: dict[int, Rendition]) -> list[Wanted]:
        """The renditions the answer holds, in the request's order (an auto one's widths narrowest first)."""
        by_name = {item.name: item for item in self.wanted if item.index in results}
        ordered = []
        for entry in self.order:
            names = entry.chosen_names() if isinstance(entry, AutoRendition) else [entry]
            ordered.extend(by_name[name] for name in names)
        return ordered


def at_width(options: ConvertOptions, width: int) -> ConvertOptions:
    """One width of a widths=auto rendition: a rendition of its own at that width."""
    return replace(options, width=width, widths=None)
