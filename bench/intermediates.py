"""The `intermediates` part of `make bench`: smaller renditions made from larger ones' resizes.

A JPEG rendition decodes at its own DCT scale, so intermediates seldom apply to JPEG uploads. HEIC (an
iPhone's uploads), PNG and WebP decode at full size, and every width was resized from the whole decode. Each
photo is taken as HEIC q90 (re-encoded with pillow-heif; PNGs stay PNG), and its CMS set (320/768/1200/1920
px x WebP + AVIF) is made in process on one thread two ways, alternating, median of the repetitions:

- with intermediates (imgopt/imaging/intermediates.py);
- without: ``intermediates.CHAIN_FACTOR`` set to infinity, so every rendition is resized from the decode,
  as /convert resizes it.

The resize step alone is also timed both ways on the same decode (the set's four geometries, resized as
the pipeline does), since it is all that changes and a set's time is mostly decoding and encoding.

Then the fidelity rule on every rendition made from an intermediate: SSIMULACRA2 against the full decode
resized in float (testing/fidelity.py) compared with /convert's output of the same fields, and the bytes.
"""

from __future__ import annotations

import io
import math
import statistics
import time
from contextlib import contextmanager

import pillow_heif
from PIL import Image

from imgopt.imaging import geometry, intermediates
from imgopt.imaging.limits import ALPHA_MODES
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert, render_set
from imgopt.imaging.steps import resize
from testing.fidelity import RULE_BYTES, RULE_POINTS, full_decode, reference, scores
from testing.settings import pipeline_settings

WIDTHS = (320, 768, 1200, 1920)
CMS = [
    (f"{fmt}-{width}", ConvertOptions(format=fmt, width=width))
    for width in WIDTHS
    for fmt in ("webp", "avif")
]
HEIC_QUALITY = 90


@contextmanager
def without_intermediates():
    factor = intermediates.CHAIN_FACTOR
    intermediates.CHAIN_FACTOR = math.inf
    try:
        yield
    finally:
        intermediates.CHAIN_FACTOR = factor


def as_uploaded(photo: bytes) -> tuple[bytes, str]:
    """The photo as a full-size decode would receive it: HEIC, unless it is a PNG already."""
    with Image.open(io.BytesIO(photo)) as image:
        if image.format == "PNG":
            return photo, "png"
        image.load()
        exif = image.info.get("exif")
        buffer = io.BytesIO()
        pillow_heif.from_pillow(image.convert("RGB")).save(buffer, quality=HEIC_QUALITY, exif=exif)
        return buffer.getvalue(), "heic"


def timed_set(data: bytes, settings) -> tuple[float, object]:
    started = time.perf_counter()
    result = render_set(data, CMS, settings)
    return time.perf_counter() - started, result


def resize_step(data: bytes, reps: int) -> dict[str, float]:
    """Median ms of the set's resizes from one decode: chained as intermediates.py allows, and each from
    the decode."""
    base, _profile = full_decode(data)
    plans = [geometry.plan(base.size, ConvertOptions(width=width)) for width in WIDTHS if width < base.width]
    parents = intermediates.parents(base.size, plans, alpha=base.mode in ALPHA_MODES)
    order = sorted(range(len(plans)), key=lambda index: -plans[index].resized[0])

    def chained() -> None:
        made: dict[int, Image.Image] = {}
        for index in order:
            parent = parents[index]
            if parent is None:
                made[index] = resize(base, plans[index])
            else:
                source = made[parent]
                made[index] = resize(source, plans[index], intermediates.grid(base.size, source.size))

    def direct() -> None:
        for plan in plans:
            resize(base, plan)

    samples: dict[str, list[float]] = {"chained": [], "direct": []}
    for rep in range(reps + 1):
        for side, work in (("chained", chained), ("direct", direct))[:: 1 if rep % 2 == 0 else -1]:
            started = time.perf_counter()
            work()
            if rep:
                samples[side].append(time.perf_counter() - started)
    return {side: statistics.median(values) * 1000 for side, values in samples.items()}


def run(photos: list[bytes], names: list[str], reps: int) -> dict:
    settings = pipeline_settings(rendition_threads=1)
    rows, checks = [], []
    for name, photo in zip(names, photos, strict=True):
        data, kind = as_uploaded(photo)
        samples: dict[str, list[float]] = {"chained": [], "direct": []}
        chained = None
        for rep in range(reps + 1):
            for side in ("chained", "direct") if rep % 2 == 0 else ("direct", "chained"):
                if side == "direct":
                    with without_intermediates():
                        seconds, _ = timed_set(data, settings)
                else:
                    seconds, chained = timed_set(data, settings)
                if rep:  # the first pass warms up
                    samples[side].append(seconds)
        medians = {side: statistics.median(values) * 1000 for side, values in samples.items()}
        rows.append({"photo": name, "upload": kind, **{f"{side}_ms": ms for side, ms in medians.items()}})
        rows[-1]["ratio"] = medians["chained"] / medians["direct"]
        step = resize_step(data, reps)
        rows[-1].update(
            resize_chained_ms=step["chained"],
            resize_direct_ms=step["direct"],
            resize_ratio=step["chained"] / step["direct"],
        )
        checks.extend(_rule(name, data, chained, settings))
        print(f"  intermediates {name}: {rows[-1]['ratio']:.3f}", flush=True)
    fails = [check for check in checks if not check["passes"]]
    return {"sets": rows, "rule": checks, "rule_fails": len(fails), "rule_checked": len(checks)}


def _rule(name: str, data: bytes, result, settings) -> list[dict]:
    checks = []
    made = dict(zip((item[0] for item in CMS), result.resized_from, strict=True))
    decoded = max(result.resized_from, key=lambda size: size[0] * size[1])
    for (rendition_name, options), ours in zip(CMS, result.renditions, strict=True):
        if made[rendition_name] == decoded:
            continue  # from the decode, as /convert makes it
        theirs = convert(data, options, settings).rendition
        ours_score, theirs_score = scores(reference(data, options, ours), ours.data, theirs.data)
        points = ours_score - theirs_score
        size = len(ours.data) / len(theirs.data)
        checks.append(
            {
                "photo": name,
                "rendition": rendition_name,
                "from": made[rendition_name],
                "points": points,
                "bytes_ratio": size,
                "passes": points >= -RULE_POINTS and abs(size - 1) <= RULE_BYTES,
            }
        )
    return checks


def print_report(report: dict, table) -> None:
    rows = [
        [
            row["photo"],
            row["upload"],
            f"{row['chained_ms']:.0f}",
            f"{row['direct_ms']:.0f}",
            f"{row['ratio']:.3f}",
            f"{row['resize_chained_ms']:.0f}",
            f"{row['resize_direct_ms']:.0f}",
            f"{row['resize_ratio']:.3f}",
        ]
        for row in report["sets"]
    ]
    header = ["photo", "upload", "set, intermediates ms", "set, from the decode ms", "ratio"]
    header += ["resizes, intermediates ms", "resizes, from the decode ms", "ratio"]
    print(table(header, rows))
    rows = [
        [
            check["photo"],
            check["rendition"],
            f"{check['from'][0]}x{check['from'][1]}",
            f"{check['points']:+.2f}",
            f"{check['bytes_ratio']:.3f}",
            "yes" if check["passes"] else "**no**",
        ]
        for check in report["rule"]
    ]
    print(
        table(
            ["photo", "rendition", "made from", "SSIMULACRA2 vs /convert", "bytes vs /convert", "rule"], rows
        )
    )
    print(f"rule: {report['rule_checked'] - report['rule_fails']} of {report['rule_checked']} pass")
