"""The `widths` part of `make bench`: srcset widths chosen from real bytes (widths=auto) against the fixed
320/768/1200/1920 set, over the corpus photos (or generated ones) and the generated graphics.

Waste, for a slot that needs N pixels: the bytes of the file a browser picks from the srcset (the narrowest
stored width of at least N, else the widest) over the bytes of the same image encoded at exactly N pixels.
Slots: N = 320 .. min(source width, 2560) in steps of 40 CSS pixels, at DPR 1 and 2 (a slot needs N x DPR
pixels, at most the source's width). In process, WebP and AVIF at quality 80. Also the files each set
stores, and auto with max_images=10 (what meeting a worst waste of 1.35 costs in files). Then the time of one
auto /variants against the fixed set of the same formats, through HTTP, idle, one client.

    python -m bench.widths [PHOTO_DIR] [--images a.jpg,b.png] [--formats webp,avif] [--reps 3] [--json PATH]
    python -m bench.widths PHOTO_DIR --images ... --baseline CHECKOUT   (the time part, two checkouts)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import generated_photos, results_path, write_results
from imgopt.imaging.context import RequestContext
from imgopt.imaging.options import AutoWidths, ConvertOptions
from imgopt.imaging.parallel import lend_up_to
from imgopt.imaging.pipeline import render_set
from testing.graphics import graphics
from testing.http import multipart, post_body
from testing.server import ROOT, start_gunicorn, stop_gunicorn
from testing.settings import pipeline_settings

FIXED = (320, 768, 1200, 1920)
SLOT_STEP = 40
LARGEST_SLOT = 2560
# References are encoded a few at a time: a whole slot range in one set would pass MAX_DECODE_MB.
REFERENCE_BATCH = 4


def stored(data: bytes, fmt: str, spec: AutoWidths | None, settings) -> dict[int, int]:
    """width -> bytes of what a set stores: the fixed widths (capped by the source), or the auto ones."""
    if spec is None:
        requests = [(str(width), ConvertOptions(format=fmt, width=width)) for width in FIXED]
    else:
        requests = [("auto", ConvertOptions(format=fmt, widths=spec))]
    result = render_set(
        data, requests, settings, describe=False, context=RequestContext(borrow=lend_up_to(1))
    )
    return {rendition.width: len(rendition.data) for rendition in result.renditions}


def needed_widths(source_width: int) -> list[tuple[int, int, int]]:
    """(slot N, DPR, pixels needed) for every slot."""
    slots = range(320, min(source_width, LARGEST_SLOT) + 1, SLOT_STEP)
    return [(slot, dpr, min(slot * dpr, source_width)) for slot in slots for dpr in (1, 2)]


def waste(sets: dict[int, int], references: dict[int, int], needs: list[tuple[int, int, int]]) -> dict:
    """The ratios over every slot, and the most bytes one slot pays beyond its exact encode."""
    ratios, extra = [], []
    for _slot, _dpr, need in needs:
        wide_enough = [width for width in sets if width >= need]
        picked = min(wide_enough) if wide_enough else max(sets)
        ratios.append(sets[picked] / references[need])
        extra.append(sets[picked] - references[need])
    return {
        "files": len(sets),
        "widths": sorted(sets),
        "bytes": [sets[width] for width in sorted(sets)],
        "worst": round(max(ratios), 3),
        "mean": round(statistics.mean(ratios), 3),
        "worst_extra_kb": round(max(extra) / 1024, 1),
    }


def image_table(name: str, data: bytes, fmt: str, settings) -> dict:
    source_width = render_set(data, (), settings).source.width
    needs = needed_widths(source_width)
    unique = sorted({need for _slot, _dpr, need in needs})
    references: dict[int, int] = {}
    for start in range(0, len(unique), REFERENCE_BATCH):
        widths = unique[start : start + REFERENCE_BATCH]
        batch = [(str(width), ConvertOptions(format=fmt, width=width)) for width in widths]
        result = render_set(
            data, batch, settings, describe=False, context=RequestContext(borrow=lend_up_to(1))
        )
        references.update({int(rendition.name): len(rendition.data) for rendition in result.renditions})
    row = {"image": name, "format": fmt, "source_width": source_width}
    for label, spec in (("fixed", None), ("auto", AutoWidths()), ("auto_10", AutoWidths(max_images=10))):
        row[label] = waste(stored(data, fmt, spec, settings), references, needs)
    return row


def timing(photos: dict[str, bytes], reps: int, baseline: Path | None = None) -> dict:
    """One auto /variants (WebP + AVIF) against the fixed set of the same formats, idle, one client; with
    ``baseline`` (another checkout), both checkouts side by side, alternating. The decodes each set made are
    read from its request's log line."""
    fixed = json.dumps(
        [{"name": f"{fmt}-{w}", "format": fmt, "width": w} for w in FIXED for fmt in ("webp", "avif")]
    )
    auto = json.dumps([{"name": fmt, "format": fmt, "widths": "auto"} for fmt in ("webp", "avif")])
    roots = {"this": ROOT, **({"baseline": baseline} if baseline else {})}
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {side: start_gunicorn(Path(tmp) / side, root=root) for side, root in roots.items()}
        try:
            for name, data in photos.items():
                bodies = {
                    "fixed": multipart(data, {"variants": fixed}),
                    "auto": multipart(data, {"variants": auto}),
                }
                runs = [(side, kind) for side in servers for kind in bodies]
                for side, kind in runs:  # warm-up, and the decodes each made
                    post_body(
                        servers[side], "/variants", bodies[kind], headers={"X-Request-Id": f"{name}-{kind}"}
                    )
                seconds: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
                for rep in range(reps):
                    for side, kind in runs if rep % 2 == 0 else list(reversed(runs)):
                        started = time.perf_counter()
                        status, _body = post_body(servers[side], "/variants", bodies[kind])
                        assert status == 200, status
                        seconds[(side, kind)].append(time.perf_counter() - started)
                rows[name] = {}
                for side, server in servers.items():
                    ms = {kind: statistics.median(seconds[(side, kind)]) * 1000 for kind in bodies}
                    decodes = {kind: _decodes(server, f"{name}-{kind}") for kind in bodies}
                    rows[name][side] = {
                        "fixed_ms": round(ms["fixed"]),
                        "auto_ms": round(ms["auto"]),
                        "ratio": round(ms["auto"] / ms["fixed"], 3),
                        "fixed_decodes": decodes["fixed"],
                        "auto_decodes": decodes["auto"],
                    }
        finally:
            for server in servers.values():
                stop_gunicorn(server)
    return rows


def _decodes(server, request_id: str) -> int | None:
    for line in server.log().splitlines():
        if f'"request_id":"{request_id}"' in line:
            return json.loads(line).get("decodes")
    return None


def print_timing(times: dict) -> None:
    print("\n| photo | checkout | fixed set ms | auto set ms | auto / fixed | decodes, fixed / auto |")
    print("|---|---|---|---|---|---|")
    for name, sides in times.items():
        for side, row in sides.items():
            print(
                f"| {name} | {side} | {row['fixed_ms']} | {row['auto_ms']} | {row['ratio']:.3f} "
                f"| {row['fixed_decodes']} / {row['auto_decodes']} |"
            )


def run(photos: dict[str, bytes], formats: list[str], reps: int) -> dict:
    """Waste per image and format, in process; then the HTTP timing. ``photos``: name -> bytes."""
    settings = pipeline_settings()
    images = {**photos, **graphics()}
    rows = [image_table(name, data, fmt, settings) for fmt in formats for name, data in images.items()]
    print("\nfiles, worst waste, mean waste, worst extra KiB one slot pays")
    print("\n| image | format | fixed 320/768/1200/1920 | auto | auto, max_images=10 |")
    print("|---|---|---|---|---|")
    for row in rows:
        cells = [
            f"{row[k]['files']}, {row[k]['worst']:.2f}, {row[k]['mean']:.2f}, {row[k]['worst_extra_kb']}"
            for k in ("fixed", "auto", "auto_10")
        ]
        print(f"| {row['image']} | {row['format']} | " + " | ".join(cells) + " |")
    times = timing(photos, reps)
    print_timing(times)
    return {"waste": rows, "time": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", nargs="?", type=Path)
    parser.add_argument("--formats", default="webp,avif")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--images", help="comma-separated file names of PHOTO_DIR to use (default: all)")
    parser.add_argument(
        "--baseline", type=Path, help="time only: this checkout's sets against another's, side by side"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.photos is not None:
        chosen = args.images.split(",") if args.images else None
        photos = {
            path.name: path.read_bytes()
            for path in sorted(args.photos.iterdir())
            if path.is_file() and (chosen is None or path.name in chosen)
        }
    else:
        photos = {f"generated-{index}": data for index, data in enumerate(generated_photos(smoke=False))}
    if args.baseline:
        report = {"time": timing(photos, args.reps, args.baseline)}
        print_timing(report["time"])
        write_results(args.json or results_path("widths-time"), report)
        return
    report = run(photos, args.formats.split(","), args.reps)
    write_results(args.json or results_path("widths"), report)


if __name__ == "__main__":
    main()
