"""The quality=auto part of `make bench`: agreement with the reference metric, and the issue's targets.

The set is the photos (the corpus folder, or generated photo-like JPEGs) plus generated flat graphics
(testing/graphics.py) and, when it is there, the 16-bit flag from ../shared/corpus/edge. Everything is at
1200 px, WebP and AVIF separately, in-process (imgopt.imaging.pipeline.convert), so that only the pipeline
is timed.

- Agreement: for each photo x quality, our exact score and our cheap estimate against the PyPI ssimulacra2
  package (the offline reference, ~1.6 s a pair): Spearman rank correlation and mean absolute error.
- Consistency: the reference score of every image's quality=auto output, against the target.
- Bytes: auto's mean bytes against the fixed quality whose worst image scores at least auto's worst.
- Time: an auto convert against a fixed-quality convert (the service default) of the same image, size and
  format, interleaved; the ratio of the summed medians.
- format=auto against the smaller of the two auto outputs.
- Memory: a fresh worker-like process's peak RSS growth for one convert, fixed against auto, per output pixel.
- ``--fit``: a dense sweep that refits ssimulacra2.MODELS and autoquality.SLOPES (printed, not written).

    .venv/bin/python -m bench.autoquality [CORPUS_DIR] [--smoke] [--fit] [--json PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import itertools
import math
import multiprocessing
import re
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from PIL import Image

from bench.common import corpus_paths, generated_photos, markdown_table, names_of, results_path, write_results
from imgopt.imaging.codecs import flattened_for_jpeg
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from imgopt.imaging.quality import ssimulacra2
from testing.graphics import graphics
from testing.settings import pipeline_settings

WIDTH = 1200
FORMATS = ("webp", "avif")
AGREEMENT_QUALITIES = (30, 50, 70, 80, 90)
EDGE_FLAG = Path(__file__).resolve().parents[2] / "shared/corpus/edge/Flag_of_the_Netherlands-16bit.png"
SETTINGS = pipeline_settings(max_decode_bytes=8 << 30)


# --- the set and its references --------------------------------------------------------------------------


def image_set(photos: list[bytes], names: list[str], smoke: bool) -> dict[str, bytes]:
    """Photos, generated graphics and the 16-bit flag (when the shared corpus is there)."""
    if smoke:  # seconds, not minutes: small photos
        options = ConvertOptions(format="jpeg", quality=90, width=320)
        photos = [convert(photo, options, SETTINGS).rendition.data for photo in photos]
    images = dict(zip(names, photos, strict=True))
    images.update(graphics(0.2 if smoke else 1.0))
    if EDGE_FLAG.exists() and not smoke:
        images[EDGE_FLAG.name] = EDGE_FLAG.read_bytes()
    return images


def reference(data: bytes, width: int) -> Image.Image:
    """The resized, colour-managed image the encoder would get: the pipeline's lossless PNG output."""
    png = convert(data, ConvertOptions(format="png", width=width), SETTINGS).rendition.data
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def encoded(image: Image.Image, output_format: str, quality: int) -> tuple[bytes, Image.Image]:
    data = convert(
        _png(image), ConvertOptions(format=output_format, quality=quality), SETTINGS
    ).rendition.data
    decoded = Image.open(io.BytesIO(data))
    decoded.load()
    return data, decoded


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def reference_score(original: Image.Image, distorted: Image.Image, workdir: Path) -> float:
    """The PyPI ssimulacra2 package's score (transparency composited over grey, as ours does)."""
    from ssimulacra2 import compute_ssimulacra2

    paths = []
    for name, image in (("ref", original), ("dist", distorted)):
        path = workdir / f"{name}.png"
        ssimulacra2._opaque(image).save(path)
        paths.append(str(path))
    return float(compute_ssimulacra2(*paths))


def has_reference() -> bool:
    """Whether the PyPI ssimulacra2 package (not ours, imgopt.imaging.quality.ssimulacra2) is installed."""
    return importlib.util.find_spec("ssimulacra2") is not None


# --- agreement -------------------------------------------------------------------------------------------


def agreement(references: dict[str, Image.Image], workdir: Path) -> dict:
    """Our exact score and estimate against the reference, per format, over photos x qualities."""
    rows = []
    for name, original in references.items():
        scorer = ssimulacra2.Scorer(original)
        for output_format in FORMATS:
            for quality in AGREEMENT_QUALITIES:
                _, decoded = encoded(original, output_format, quality)
                estimate = scorer.estimate(decoded, ssimulacra2.MODELS[output_format])
                rows.append(
                    {
                        "image": name,
                        "format": output_format,
                        "quality": quality,
                        "reference": reference_score(original, decoded, workdir),
                        "exact": scorer.score(decoded, estimate),
                        "estimate": estimate.predicted,
                    }
                )
        print(f"  agreement: {name} done", flush=True)
    summary = {}
    for output_format in FORMATS:
        subset = [row for row in rows if row["format"] == output_format]
        truth = [row["reference"] for row in subset]
        summary[output_format] = {
            kind: {
                "spearman": spearman([row[kind] for row in subset], truth),
                "mae": statistics.mean(abs(row[kind] - row["reference"]) for row in subset),
                "max": max(abs(row[kind] - row["reference"]) for row in subset),
            }
            for kind in ("exact", "estimate")
        }
    return {"rows": rows, "summary": summary}


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0.0] * len(values)
        start = 0
        while start < len(order):
            end = start
            while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
                end += 1
            for position in range(start, end + 1):
                result[order[position]] = (start + end) / 2
            start = end + 1
        return result

    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    return cov / math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))


# --- targets ---------------------------------------------------------------------------------------------


def targets(
    sources: dict[str, bytes],
    references: dict[str, Image.Image],
    target: float,
    workdir: Path | None,
    reps: int,
) -> dict:
    """Per format: auto's choices and reference scores, the equal-worst fixed quality, time, format=auto."""
    report: dict = {"target": target, "formats": {}}
    auto_bytes: dict[str, dict[str, int]] = {}
    for output_format in FORMATS:
        per_image = []
        for name, data in sources.items():
            result = convert(
                data, ConvertOptions(format=output_format, auto_quality=True, width=WIDTH), SETTINGS
            ).rendition
            decoded = Image.open(io.BytesIO(result.data))
            decoded.load()
            row = {"image": name, "quality": result.quality, "score": result.score, "bytes": len(result.data)}
            if workdir is not None:
                row["reference"] = reference_score(references[name], decoded, workdir)
            per_image.append(row)
        auto_bytes[output_format] = {row["image"]: row["bytes"] for row in per_image}
        judged = "reference" if workdir is not None else "score"
        worst = min(row[judged] for row in per_image)
        fixed_quality, fixed = equal_worst_fixed(references, output_format, worst)
        auto_mean = statistics.mean(row["bytes"] for row in per_image)
        fixed_mean = statistics.mean(fixed.values())
        report["formats"][output_format] = {
            "images": per_image,
            "judged_by": judged,
            "within_3": sum(abs(row[judged] - target) <= 3 for row in per_image),
            "worst": worst,
            "fixed_quality": fixed_quality,
            "fixed_bytes": fixed,
            "bytes_ratio": auto_mean / fixed_mean,
            "time": time_ratio(sources, output_format, reps),
        }
        print(f"  targets: {output_format} done", flush=True)
    report["format_auto"] = format_auto(sources, auto_bytes)
    return report


def equal_worst_fixed(
    references: dict[str, Image.Image], output_format: str, worst: float
) -> tuple[int, dict[str, int]]:
    """The lowest fixed quality at which every image scores at least ``worst``, and its bytes per image.

    The search is a bisection on the worst image's score, which rises with quality (close enough for this).
    """
    scorers = {name: ssimulacra2.Scorer(image) for name, image in references.items()}

    def at(quality: int) -> tuple[float, dict[str, int]]:
        scores, sizes = [], {}
        for name, image in references.items():
            data, decoded = encoded(image, output_format, quality)
            scores.append(scorers[name].score(decoded))
            sizes[name] = len(data)
        return min(scores), sizes

    low, high = 1, 100
    found = at(high)
    while low < high:
        middle = (low + high) // 2
        score, sizes = at(middle)
        if score >= worst:
            high, found = middle, (score, sizes)
        else:
            low = middle + 1
    if high == 100:
        found = at(100)
    return high, found[1]


def time_ratio(sources: dict[str, bytes], output_format: str, reps: int) -> dict:
    """Seconds per convert, fixed (the default quality) and auto, interleaved; medians summed over images."""
    fixed_options = ConvertOptions(format=output_format, quality=80, width=WIDTH)
    auto_options = replace(fixed_options, auto_quality=True)
    fixed_total = auto_total = 0.0
    for data in sources.values():
        fixed_times, auto_times = [], []
        for _ in range(reps):
            for options, times in ((fixed_options, fixed_times), (auto_options, auto_times)):
                start = time.perf_counter()
                convert(data, options, SETTINGS)
                times.append(time.perf_counter() - start)
        fixed_total += statistics.median(fixed_times)
        auto_total += statistics.median(auto_times)
    return {"fixed_s": fixed_total, "auto_s": auto_total, "ratio": auto_total / fixed_total}


def format_auto(sources: dict[str, bytes], auto_bytes: dict[str, dict[str, int]]) -> dict:
    """format=auto's bytes against the smaller of the WebP and AVIF auto outputs, per image."""
    rows = []
    for name, data in sources.items():
        result = convert(
            data, ConvertOptions(format="auto", auto_quality=True, width=WIDTH), SETTINGS
        ).rendition
        smaller = min(auto_bytes[fmt][name] for fmt in FORMATS)
        rows.append(
            {
                "image": name,
                "format": result.format,
                "bytes": len(result.data),
                "ratio": len(result.data) / smaller,
            }
        )
    return {"rows": rows, "worst_ratio": max(row["ratio"] for row in rows)}


# --- memory ----------------------------------------------------------------------------------------------


def memory(data: bytes) -> dict:
    """Peak RSS growth of one convert in a fresh process, fixed against auto, per output pixel; ``extra``
    is what quality=auto adds, which limits.SCORING_BYTES_PER_PIXEL must cover."""
    context = multiprocessing.get_context("spawn")  # a fresh heap: nothing freed earlier to reuse
    result = {}
    for mode in ("fixed", "auto"):
        with context.Pool(1) as pool:
            result[mode] = pool.apply(_peak_growth, (data, mode == "auto"))
    pixels = result["auto"]["pixels"]
    result["extra"] = {"growth": result["auto"]["growth"] - result["fixed"]["growth"], "pixels": pixels}
    return {mode: {**value, "bytes_per_pixel": value["growth"] / pixels} for mode, value in result.items()}


def _peak_growth(data: bytes, auto: bool) -> dict:
    options = ConvertOptions(format="webp", width=WIDTH, auto_quality=auto, quality=80)
    convert(data, replace(options, width=64), SETTINGS)  # imports (numpy too) and first-use caches
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
    before = _status("VmRSS")
    result = convert(data, options, SETTINGS).rendition
    image = Image.open(io.BytesIO(result.data))
    return {"growth": _status("VmHWM") - before, "pixels": image.width * image.height}


def _status(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+)", text)[1]) * 1024


# --- fitting ---------------------------------------------------------------------------------------------


def fit(references: dict[str, Image.Image]) -> dict:
    """Refit the finest-scale models and the slope priors from every 3rd quality, scores 50-95."""
    import numpy

    report = {}
    for output_format in ("webp", "avif", "jpeg"):
        rows = []
        for name, image in references.items():
            original = flattened_for_jpeg(image) if output_format == "jpeg" else image
            scorer = ssimulacra2.Scorer(original)
            for quality in range(1, 101, 3):
                _, decoded = encoded(original, output_format, quality)
                estimate = scorer.estimate(decoded, ssimulacra2.MODELS[output_format])
                score = scorer.score(decoded, estimate)
                rows.append((name, quality, estimate.coarse_raw, estimate.scale1_raw, score))
        used = [row for row in rows if 50 <= row[4] <= 95]
        features = numpy.array([[row[2], row[3], 1.0] for row in used])
        raw = numpy.array([_raw_of(row[4]) for row in used])
        coefficients = numpy.linalg.lstsq(features, raw, rcond=None)[0]
        model = ssimulacra2.FinestScaleModel(*(round(float(value), 4) for value in coefficients))
        errors = [abs(ssimulacra2._to_score(model.full_raw(row[2], row[3])) - row[4]) for row in used]
        report[output_format] = {
            "model": [model.coarse, model.scale1, model.constant],
            "mae": statistics.mean(errors),
            "max": max(errors),
            "slopes": _slopes(rows),
        }
        print(f"  fit {output_format}: {report[output_format]}", flush=True)
    return report


def _raw_of(score: float) -> float:
    """The raw weighted sum whose score is ``score`` (bisection; _to_score falls as raw grows)."""
    low, high = 0.0, 1e4
    for _ in range(80):
        middle = (low + high) / 2
        if ssimulacra2._to_score(middle) > score:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _slopes(rows: list[tuple]) -> list[tuple[int, float]]:
    """Median score gained per quality step, by the score band reached."""
    bands: dict[int, list[float]] = {}
    by_image: dict[str, list[tuple]] = {}
    for row in rows:
        by_image.setdefault(row[0], []).append(row)
    for series in by_image.values():
        for lower, upper in itertools.pairwise(series):
            ceiling = next(edge for edge in (55, 65, 75, 85, 101) if lower[4] < edge)
            bands.setdefault(ceiling, []).append((upper[4] - lower[4]) / (upper[1] - lower[1]))
    return [(edge, round(statistics.median(values), 2)) for edge, values in sorted(bands.items())]


# --- report ----------------------------------------------------------------------------------------------


def print_report(report: dict) -> None:
    if report.get("agreement"):
        rows = []
        for output_format, summary in report["agreement"]["summary"].items():
            for kind, values in summary.items():
                rows.append(
                    [
                        output_format,
                        kind,
                        f"{values['spearman']:.4f}",
                        f"{values['mae']:.3f}",
                        f"{values['max']:.3f}",
                    ]
                )
        print(f"\nagreement with the reference (photos x qualities {AGREEMENT_QUALITIES})")
        print(markdown_table(["format", "ours", "Spearman", "MAE", "max error"], rows))
    targets_report = report["targets"]
    rows = []
    for output_format, values in targets_report["formats"].items():
        rows.append(
            [
                output_format,
                f"{values['within_3']}/{len(values['images'])}",
                f"{values['worst']:.1f}",
                f"q{values['fixed_quality']}",
                f"{values['bytes_ratio']:.3f}",
                f"{values['time']['ratio']:.2f}",
            ]
        )
    print(f"\ntargets (target {targets_report['target']}, scores by {values['judged_by']})")
    print(
        markdown_table(
            [
                "format",
                "within 3",
                "auto's worst",
                "equal-worst fixed",
                "bytes auto/fixed",
                "time auto/fixed",
            ],
            rows,
        )
    )
    print("\nper image: quality chosen, score (reference), bytes")
    header = ["image"] + [f"{fmt} q / score / bytes" for fmt in FORMATS] + ["format=auto"]
    lines = []
    formats = targets_report["formats"]
    for index, row in enumerate(formats[FORMATS[0]]["images"]):
        cells = [row["image"]]
        for output_format in FORMATS:
            image = formats[output_format]["images"][index]
            score = image.get("reference", image["score"])
            cells.append(f"q{image['quality']} / {score:.1f} / {image['bytes']}")
        chosen = targets_report["format_auto"]["rows"][index]
        cells.append(f"{chosen['format']} ({chosen['ratio']:.3f}x)")
        lines.append(cells)
    print(markdown_table(header, lines))
    if report.get("memory"):
        memory_rows = [
            [mode, f"{value['growth'] / 2**20:.1f}", f"{value['bytes_per_pixel']:.1f}"]
            for mode, value in report["memory"].items()
        ]
        print("\npeak RSS growth of one 1200 px WebP convert")
        print(markdown_table(["quality", "MiB", "bytes per output pixel"], memory_rows))


def run(photos: list[bytes], names: list[str], smoke: bool, fit_models: bool = False, reps: int = 3) -> dict:
    """The whole part; the reference comparisons are skipped when the ssimulacra2 package is missing."""
    sources = image_set(photos, names, smoke)
    references = {name: reference(data, WIDTH) for name, data in sources.items()}
    report: dict = {"images": list(sources)}
    target = SETTINGS.auto_quality_target
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) if has_reference() and not smoke else None
        if workdir is not None:
            photo_refs = {name: references[name] for name in names}
            report["agreement"] = agreement(photo_refs, workdir)
        report["targets"] = targets(sources, references, target, workdir, 1 if smoke else reps)
    if not smoke:
        report["memory"] = memory(max(photos, key=len))
    if fit_models:
        report["fit"] = fit(references)
    print_report(report)
    return report


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--fit", action="store_true", help="refit ssimulacra2.MODELS and autoquality.SLOPES")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", type=Path, default=results_path("autoquality"), help="default: %(default)s")
    args = parser.parse_args()
    paths = corpus_paths(args.corpus) if args.corpus else None
    photos = [path.read_bytes() for path in paths] if paths else generated_photos(args.smoke)
    report = run(photos, names_of(paths, len(photos)), args.smoke, args.fit, args.reps)
    write_results(args.json, report)


if __name__ == "__main__":
    main()
