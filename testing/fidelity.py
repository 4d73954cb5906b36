"""The fidelity rule between a set's rendition and /convert's: scored against a full-precision reference.

A rendition of /variants may be made from another rendition's resize (imgopt/imaging/intermediates.py), so
its bytes are not /convert's. It must still be as faithful: its SSIMULACRA2 against the full decode resized
in float (same region, same size) at most RULE_POINTS below what /convert's output scores, and its bytes
within RULE_BYTES of /convert's.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from imgopt.imaging import geometry
from imgopt.imaging.codecs import flattened_for_jpeg
from imgopt.imaging.colour import to_srgb
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import Rendition
from imgopt.imaging.quality.ssimulacra2 import Scorer, scale_count
from imgopt.imaging.source import read_orientation
from imgopt.imaging.steps import RESAMPLE, pad, turn_upright
from testing.settings import pipeline_settings

RULE_POINTS = 0.5
RULE_BYTES = 0.03


def full_decode(data: bytes) -> tuple[Image.Image, bytes | None]:
    """The whole upload decoded at full size (no draft scaling), upright, and its ICC profile."""
    with Image.open(io.BytesIO(data)) as opened:
        orientation = read_orientation(opened, [])
        profile = opened.info.get("icc_profile")
        opened.load()
        return turn_upright(opened, orientation), profile


def reference(data: bytes, options: ConvertOptions, rendition: Rendition) -> Image.Image:
    """The full decode, in sRGB, resized in float (premultiplied alpha) to the rendition's region and size,
    padded as the rendition is: what a perfect resize would give."""
    decoded, profile = full_decode(data)
    whole = to_srgb(decoded, profile, pipeline_settings().cmyk_profile, [])
    plan = geometry.plan(whole.size, options)
    pixels = np.asarray(whole.convert("RGBA"), dtype=np.float32) / 255.0
    pixels[..., :3] *= pixels[..., 3:]
    box = rendition.crop_box or (0.0, 0.0, float(whole.width), float(whole.height))
    channels = [
        np.asarray(Image.fromarray(pixels[..., band], "F").resize(plan.resized, RESAMPLE, box=box))
        for band in range(4)
    ]
    resized = np.stack(channels, axis=-1)
    alpha = np.clip(resized[..., 3:], 0.0, 1.0)
    colour = np.where(alpha > 0, resized[..., :3] / np.maximum(alpha, 1e-6), 0.0)
    rgba = np.clip(np.concatenate([colour, alpha], axis=-1) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    image = pad(Image.fromarray(rgba, "RGBA"), plan, rendition.format)
    if rendition.format == "jpeg":
        return flattened_for_jpeg(image)
    return image if image.getchannel("A").getextrema() != (255, 255) else image.convert("RGB")


def scores(reference_image: Image.Image, *outputs: bytes) -> list[float]:
    """SSIMULACRA2 of each output's first frame against the reference, by one scorer."""
    scorer = Scorer(reference_image)
    found = []
    for data in outputs:
        with Image.open(io.BytesIO(data)) as output:
            output.load()
            found.append(scorer.score(output.convert(reference_image.mode)))
    return found


def assert_as_faithful(data: bytes, options: ConvertOptions, ours: Rendition, theirs: Rendition) -> None:
    """The rule: ``ours`` (a set's rendition) scores at most RULE_POINTS below ``theirs`` (/convert's of
    the same options) against the reference, with bytes within RULE_BYTES. The same bytes always pass."""
    name = ours.name
    facts = [
        (rendition.width, rendition.height, rendition.frames, rendition.format)
        for rendition in (ours, theirs)
    ]
    assert facts[0] == facts[1], (name, facts)
    assert ours.crop_box == theirs.crop_box, name
    if ours.data == theirs.data:
        return
    assert abs(len(ours.data) / len(theirs.data) - 1) <= RULE_BYTES, (name, len(ours.data), len(theirs.data))
    if not scale_count((ours.width, ours.height)):
        return
    ours_score, theirs_score = scores(reference(data, options, ours), ours.data, theirs.data)
    assert ours_score >= theirs_score - RULE_POINTS, name
