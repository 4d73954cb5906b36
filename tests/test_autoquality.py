"""quality=auto and format=auto without HTTP: the metric against its reference, the search, the output."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from imgopt.errors import ImageTooLarge
from imgopt.imaging import limits
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from imgopt.imaging.quality import ssimulacra2
from imgopt.imaging.quality.search import ACCEPT, choose_quality
from testing import images
from testing.settings import pipeline_settings

GOLDEN = Path(__file__).parent / "files" / "ssimulacra2"
# Scores of these pairs by the PyPI ssimulacra2 package 0.3.0 (the offline reference; it needs scipy, so the
# values are recorded here). The distorted images are decoded encodes, saved losslessly.
REFERENCE_SCORES = {
    ("textured", "webp-q40"): 69.4672581508086,
    ("textured", "jpeg-q30"): 62.34191064410231,
    ("flat", "avif-q20"): 43.35518335538868,
    ("photo", "webp-q60"): 56.758439245550704,
    ("photo", "avif-q50"): 50.15725045960099,
}
SETTINGS = pipeline_settings()


def encoded_at(image: Image.Image, output_format: str, quality: int) -> bytes:
    options = ConvertOptions(format=output_format, quality=quality)
    return convert(images.encode(image, "PNG"), options, SETTINGS).rendition.data


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(("original", "distortion"), sorted(REFERENCE_SCORES))
def test_scores_agree_with_the_reference_implementation(original, distortion):
    scorer = ssimulacra2.Scorer(Image.open(GOLDEN / f"{original}.png"))
    score = scorer.score(Image.open(GOLDEN / f"{original}-{distortion}.png"))
    assert score == pytest.approx(REFERENCE_SCORES[original, distortion], abs=0.05)


def test_an_identical_image_scores_100_and_a_tiny_one_cannot_be_scored():
    image = images.textured((64, 48))
    assert ssimulacra2.Scorer(image).score(image.copy()) == pytest.approx(100.0)
    tiny = images.textured((7, 40))
    assert ssimulacra2.scale_count(tiny.size) == 0
    assert ssimulacra2.Scorer(tiny).score(tiny.rotate(180)) == 100.0


@pytest.mark.parametrize("output_format", ["webp", "avif", "jpeg"])
def test_scores_rise_with_quality_and_the_estimate_stays_near_the_exact_score(output_format):
    image = images.textured((256, 192))
    scorer = ssimulacra2.Scorer(image)
    scores = []
    for quality in (15, 50, 90):
        distorted = decoded(encoded_at(image, output_format, quality))
        estimate = scorer.estimate(distorted, ssimulacra2.MODELS[output_format])
        scores.append(scorer.score(distorted, estimate))
        if scores[-1] >= 50:  # the range the finest-scale models were fitted on (and the search works in)
            assert estimate.predicted == pytest.approx(scores[-1], abs=6)
    assert scores[0] < scores[1] < scores[2] < 100


def test_transparent_pixels_are_judged_as_seen_over_grey():
    opaque = images.textured((96, 64))
    hidden = opaque.convert("RGBA")
    hidden.putalpha(0)
    noisy = Image.effect_noise((96, 64), 80).convert("RGBA")
    noisy.putalpha(0)
    assert ssimulacra2.Scorer(hidden).score(noisy) == pytest.approx(100.0)
    assert ssimulacra2.Scorer(opaque).score(noisy.convert("RGB")) < 30


def brute_force(image: Image.Image, output_format: str) -> dict[int, float]:
    scorer = ssimulacra2.Scorer(image)
    return {q: scorer.score(decoded(encoded_at(image, output_format, q))) for q in range(1, 101)}


@pytest.mark.parametrize("output_format", ["webp", "avif"])
def test_the_search_finds_the_smallest_quality_that_reaches_the_target(output_format):
    target = 75.0
    reliable = {}
    for name, image in (("textured", images.textured((384, 288))), ("flat", images.flat_graphic((384, 288)))):
        scores = brute_force(image, output_format)
        lowest = min(quality for quality, score in scores.items() if score >= target)
        # Scores are not quite monotonic in quality: from here up every quality reaches the target.
        reliable[name] = min(q for q in scores if all(scores[k] >= target for k in range(q, 101)))
        choice = choose_quality(
            ssimulacra2.Scorer(image),
            output_format,
            target,
            lambda q, i=image: encoded_at(i, output_format, q),
        )
        assert choice.score == pytest.approx(scores[choice.quality], abs=1e-6)
        assert target <= choice.score <= target + ACCEPT + 1
        # In the accepted band, and few bytes above the smallest passing encode: the search stops rather
        # than spend encodes on a few bytes (on a flat curve the band spans many qualities).
        assert choice.quality >= lowest
        smallest = len(encoded_at(image, output_format, lowest))
        assert len(choice.data) <= 1.2 * smallest, (name, lowest, choice.quality, len(choice.data), smallest)
        assert choice.probes <= 6
    assert reliable["flat"] < reliable["textured"] - 20


def test_an_unreachable_target_returns_the_best_encode_it_found():
    image = images.textured()

    def capped(quality: int) -> bytes:  # an encoder that cannot go above quality 20
        return encoded_at(image, "webp", min(quality, 20))

    choice = choose_quality(ssimulacra2.Scorer(image), "webp", 95.0, capped)
    assert choice.score < 95
    assert choice.score == pytest.approx(ssimulacra2.Scorer(image).score(decoded(capped(20))), abs=1e-6)


def test_the_search_is_deterministic_and_reports_the_score_of_the_bytes_it_returns():
    data = images.encode(images.textured((320, 240), seed=7), "JPEG", quality=95)
    options = ConvertOptions(format="avif", auto_quality=True, target=80.0)
    first, second = convert(data, options, SETTINGS).rendition, convert(data, options, SETTINGS).rendition
    assert (first.data, first.quality, first.score) == (second.data, second.quality, second.score)
    reference = decoded(convert(data, ConvertOptions(format="png"), SETTINGS).rendition.data)
    assert first.score == pytest.approx(ssimulacra2.Scorer(reference).score(decoded(first.data)), abs=0.01)
    assert first.score >= 80


def test_a_higher_target_costs_more_quality_and_bytes():
    data = images.encode(images.textured((320, 240), seed=3), "JPEG", quality=95)
    low = convert(data, ConvertOptions(format="webp", auto_quality=True, target=60.0), SETTINGS).rendition
    high = convert(data, ConvertOptions(format="webp", auto_quality=True, target=85.0), SETTINGS).rendition
    assert low.quality < high.quality and len(low.data) < len(high.data)
    assert 60 <= low.score < high.score and high.score >= 85


def test_format_auto_returns_the_smaller_of_the_two_auto_outputs():
    for image in (images.textured((320, 240), seed=5), images.flat_graphic((320, 240))):
        data = images.encode(image, "PNG")
        results = {
            fmt: convert(data, ConvertOptions(format=fmt, auto_quality=True), SETTINGS).rendition
            for fmt in ("webp", "avif")
        }
        chosen = convert(data, ConvertOptions(format="auto", auto_quality=True), SETTINGS).rendition
        smaller = min(results.values(), key=lambda result: len(result.data))
        assert (chosen.format, chosen.data, chosen.quality) == (smaller.format, smaller.data, smaller.quality)


def test_format_auto_with_a_fixed_quality_compares_the_two_at_that_quality():
    data = images.encode(images.textured((200, 150)), "PNG")
    chosen = convert(data, ConvertOptions(format="auto", quality=50), SETTINGS).rendition
    sizes = {
        fmt: len(convert(data, ConvertOptions(format=fmt, quality=50), SETTINGS).rendition.data)
        for fmt in ("webp", "avif")
    }
    assert len(chosen.data) == min(sizes.values()) and chosen.quality == 50 and chosen.score is None


def test_an_animation_keeps_its_frames_with_format_auto():
    data = images.animation([(200, 30, 30), (30, 200, 30), (30, 30, 200)], [100, 100, 100], size=(64, 48))
    result = convert(data, ConvertOptions(format="auto", auto_quality=True), SETTINGS).rendition
    assert result.frames == 3
    assert len(images.frames_of(result.data)) == 3
    assert result.score is not None and result.quality is not None


def test_jpeg_auto_scores_a_transparent_source_against_what_jpeg_shows():
    image = images.textured((160, 120)).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize((160, 120)))
    result = convert(
        images.encode(image, "PNG"), ConvertOptions(format="jpeg", auto_quality=True), SETTINGS
    ).rendition
    assert result.format == "jpeg" and result.score >= SETTINGS.auto_quality_target


def test_an_output_too_small_to_score_gets_the_default_quality():
    data = images.encode(images.textured((64, 48)), "PNG")
    result = convert(
        data, ConvertOptions(format="webp", auto_quality=True, quality=77, width=6), SETTINGS
    ).rendition
    assert (result.quality, result.score) == (77, None)


def test_the_memory_budget_counts_the_scoring():
    settings = replace(SETTINGS, max_decode_bytes=64 * 1024 * 1024)
    limits.check_memory("png", "RGB", (2000, 1500), 2000 * 1500, settings)
    with pytest.raises(ImageTooLarge, match="quality=auto"):
        limits.check_memory("png", "RGB", (2000, 1500), 2000 * 1500, settings, scored_pixels=2000 * 1500)


def test_numpy_is_imported_only_when_quality_auto_is_first_used():
    script = (
        "import sys\n"
        "from imgopt import create_app\n"
        "from imgopt.imaging.pipeline import convert\n"
        "from imgopt.imaging.options import ConvertOptions\n"
        "from testing.settings import pipeline_settings\n"
        "from testing import images\n"
        "data = images.encode(images.textured((64, 48)), 'PNG')\n"
        "convert(data, ConvertOptions(format='webp'), pipeline_settings())\n"
        "assert 'numpy' not in sys.modules, 'numpy imported by a fixed-quality convert'\n"
        "convert(data, ConvertOptions(format='webp', auto_quality=True), pipeline_settings())\n"
        "assert 'numpy' in sys.modules\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True, timeout=60)
