"""The frame steps: one list whose phases follow one another, the order the set maker's slices depend on, and
one request context asked before every task of a set."""

from __future__ import annotations

import pytest

from imgopt.errors import ClientGone, DeadlineExceeded
from imgopt.imaging.context import Deadline, RequestContext
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import render_set
from imgopt.imaging.steps import FRAME_STEPS, Phase, resize_to_plan
from testing import images
from testing.settings import pipeline_settings

SETTINGS = pipeline_settings()


def test_the_phases_follow_one_another_in_the_list():
    phases = [step.phase for step in FRAME_STEPS]
    assert phases == sorted(phases)
    assert {phase for phase in Phase} <= set(phases), "every phase has a step"


def test_the_resize_is_the_one_step_of_its_phase_and_comes_before_every_pixel_step_of_a_geometry():
    # A chained rendition starts from a larger one's frame after RESIZE, and reruns RESIZE on it: that
    # frame must be the resize alone, and nothing of a geometry may run before it but the framing.
    (resize,) = [step for step in FRAME_STEPS if step.phase == Phase.RESIZE]
    assert resize.apply is resize_to_plan
    before = FRAME_STEPS[: FRAME_STEPS.index(resize)]
    assert all(step.phase in (Phase.DECODE, Phase.FRAMING) for step in before)


def test_framing_steps_plan_and_no_other_step_does():
    for step in FRAME_STEPS:
        assert step.plans == (step.phase == Phase.FRAMING), step.name


class CountingContext(RequestContext):
    """A context that counts the questions and says stop at the n-th."""

    def __init__(self, stop_at: int | None = None, error=ClientGone) -> None:
        super().__init__()
        self.asked = 0
        self.stop_at = stop_at
        self.error = error

    def check(self) -> None:
        self.asked += 1
        if self.stop_at is not None and self.asked >= self.stop_at:
            raise self.error("stop")


CMS = [
    (f"{fmt}-{width}", ConvertOptions(format=fmt, width=width))
    for width in (320, 768)
    for fmt in ("webp", "jpeg")
]


def test_the_context_is_asked_before_every_decode_resize_and_encode():
    context = CountingContext()
    render_set(images.photo((1600, 1200)), CMS, SETTINGS, context)
    decodes = 3  # 1/2 and 1/4 for the widths, 1/8 for the placeholder
    resizes = 2
    assert context.asked == decodes + resizes + len(CMS)


@pytest.mark.parametrize("stop_at", [1, 2, 4, 6])
def test_once_the_context_says_stop_nothing_more_is_made(stop_at):
    context = CountingContext(stop_at)
    with pytest.raises(ClientGone):
        render_set(images.photo((1600, 1200)), CMS, SETTINGS, context)
    assert context.asked == stop_at, "no task was started after the context said stop"


def test_a_deadline_past_stops_the_set_with_its_own_error():
    context = RequestContext(deadline=Deadline(at=0.0, set_by="the caller's declared deadline"))
    with pytest.raises(DeadlineExceeded, match="declared deadline"):
        render_set(images.photo((800, 600)), CMS, SETTINGS, context)


def test_notes_are_the_contexts_and_each_is_said_once():
    photo = images.photo((800, 600))
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x09\x00\x00\x00"  # 9
    data = photo[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + photo[2:]
    context = RequestContext()
    result = render_set(data, CMS, SETTINGS, context)
    assert "ignored_malformed_exif" in context.notes
    assert result.notes == tuple(dict.fromkeys(context.notes))
    assert len(set(result.notes)) == len(result.notes)
