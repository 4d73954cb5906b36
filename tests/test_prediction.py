"""quality=auto's prediction: the mosaic it samples, the quality it predicts, and the search that verifies it
(a prediction in the accepted band is one encode; a missed one is searched from)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from imgopt.imaging.quality import prediction
from imgopt.imaging.quality.prediction import TILE, mosaic, predict_quality, sample_score, tile_boxes
from imgopt.imaging.quality.search import ACCEPT, MAX_PROBES, choose_quality
from imgopt.imaging.quality.ssimulacra2 import Scorer
from testing import images
from testing.settings import pipeline_settings

SETTINGS = pipeline_settings()


def encoder(output_format: str):
    def encode_image(image: Image.Image, quality: int) -> bytes:
        options = ConvertOptions(format=output_format, quality=quality)
        return convert(images.encode(image, "PNG"), options, SETTINGS).rendition.data

    return encode_image


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_mosaic_is_tiles_cut_from_across_the_frame_at_full_resolution():
    frame = images.textured((1200, 900), seed=3)
    boxes = tile_boxes(frame.size)
    sample = mosaic(frame)
    assert sample is not None
    assert len(boxes) >= prediction.MIN_TILES
    # About an eighth of the frame, never more than half of it.
    assert 0.05 <= len(boxes) * TILE * TILE / (1200 * 900) <= 0.5
    columns = sample.width // TILE
    assert sample.width % TILE == 0 and sample.height % TILE == 0
    assert columns * (sample.height // TILE) == len(boxes)  # each tile once
    for index, box in enumerate(boxes):
        left, top = (index % columns) * TILE, (index // columns) * TILE
        tile = sample.crop((left, top, left + TILE, top + TILE))
        assert images.frames_of(images.encode(tile, "PNG")) == images.frames_of(
            images.encode(frame.crop(box), "PNG")
        )
    # From every part of the frame: each quarter holds a tile's centre.
    centres = [((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) for box in boxes]
    for right in (False, True):
        for lower in (False, True):
            assert any((x > 600) == right and (y > 450) == lower for x, y in centres)


@pytest.mark.parametrize("size", [(400, 300), (1200, 100), (100, 1200), (768, 576), (1000, 580)])
def test_a_frame_too_small_to_sample_is_not_predicted(size):
    frame = images.textured(size)
    assert mosaic(frame) is None
    assert predict_quality(frame, "webp", 75.0, encoder("webp")) is None


def test_a_transparent_frame_keeps_its_alpha_in_the_mosaic():
    frame = images.textured((1000, 800)).convert("RGBA")
    frame.putalpha(Image.linear_gradient("L").resize(frame.size))
    sample = mosaic(frame)
    assert sample is not None and sample.mode == "RGBA"
    assert sample.getchannel("A").getextrema()[0] < 128


@pytest.mark.parametrize("output_format", prediction.PREDICTED)
def test_a_prediction_follows_the_target_and_tells_graphics_from_photos(output_format):
    photo = images.textured((1200, 900), seed=5)
    graphic = images.flat_graphic((1200, 900))
    encode_image = encoder(output_format)
    low, high = (predict_quality(photo, output_format, target, encode_image) for target in (65.0, 85.0))
    assert low is not None and high is not None
    assert 1 <= low < high <= 100
    photo_sample, graphic_sample = mosaic(photo), mosaic(graphic)
    assert photo_sample is not None and graphic_sample is not None
    assert not sample_score(photo_sample, output_format, encode_image)[1]
    assert sample_score(graphic_sample, output_format, encode_image)[1]  # flat
    flat = predict_quality(graphic, output_format, 75.0, encode_image)
    assert flat is not None and flat < low


@pytest.mark.parametrize("output_format", ["png", "jpeg"])
def test_there_is_no_prediction_for_a_lossless_format_nor_where_it_does_not_pay(output_format):
    # JPEG's search starts at its fixed first guess (prediction.PREDICTED says why).
    assert output_format not in prediction.PREDICTED
    frame = images.textured((1200, 900))
    assert predict_quality(frame, output_format, 75.0, encoder(output_format)) is None


_CURVES: dict[tuple[str, str], dict[int, float]] = {}


def curve(name: str, image: Image.Image, output_format: str) -> dict[int, float]:
    """The exact score at every quality (once per image and format)."""
    if (name, output_format) not in _CURVES:
        scorer = Scorer(image)
        encode_image = encoder(output_format)
        _CURVES[name, output_format] = {
            quality: scorer.score(decoded(encode_image(image, quality))) for quality in range(1, 101)
        }
    return _CURVES[name, output_format]


@pytest.mark.parametrize("output_format", ["webp", "avif"])
def test_a_prediction_in_the_band_is_the_answer_after_one_encode(output_format):
    image = images.textured((384, 288), seed=2)
    target = 75.0
    scores = curve("textured", image, output_format)
    in_band = [quality for quality, score in scores.items() if target <= score <= target + ACCEPT]
    assert in_band
    encodes = []

    def encode_at(quality: int) -> bytes:
        encodes.append(quality)
        return encoder(output_format)(image, quality)

    for quality in in_band:
        encodes.clear()
        choice = choose_quality(Scorer(image), output_format, target, encode_at, predicted=quality)
        assert (choice.quality, choice.probes, encodes) == (quality, 1, [quality])
        assert choice.score == pytest.approx(scores[quality], abs=1e-6)


@pytest.mark.parametrize("output_format", ["webp", "avif"])
@pytest.mark.parametrize("name", ["textured", "flat"])
def test_a_missed_prediction_is_searched_from_to_what_the_search_finds_alone(output_format, name):
    image = images.textured((384, 288), seed=2) if name == "textured" else images.flat_graphic((384, 288))
    target = 75.0
    scores = curve(name, image, output_format)
    encode_image = encoder(output_format)
    alone = choose_quality(Scorer(image), output_format, target, lambda q: encode_image(image, q))
    lowest = min(quality for quality, score in scores.items() if score >= target)
    for predicted in (1, max(1, lowest - 12), lowest - 1, min(100, lowest + 15), 100):
        if target <= scores[predicted] <= target + ACCEPT:
            continue  # a hit, not a miss
        choice = choose_quality(
            Scorer(image),
            output_format,
            target,
            lambda q: encode_image(image, q),
            predicted=predicted,
        )
        assert choice.score == pytest.approx(scores[choice.quality], abs=1e-6)
        assert target <= choice.score <= target + ACCEPT + 1, (predicted, choice.score)
        assert choice.quality >= lowest
        # Bounded; a near miss is settled in a few probes.
        assert choice.probes <= MAX_PROBES
        if abs(predicted - lowest) <= 15:
            assert choice.probes <= 4, (predicted, lowest, choice.probes, alone.probes)
