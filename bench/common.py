"""What the benchmarks share: their inputs (the corpus, or photos they make), the raw Pillow bound, the
closed loop of clients that drives a live service, tables for the report, and where results are kept.

The parts bench/bench.py runs import what they share from here, never from bench/bench.py, so nothing in
bench/ imports in a circle (tests/test_layout.py). A bench writes its latest run to
``bench/results/<bench>.json`` (``results_path``); git keeps the earlier ones.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from testing.http import multipart, post_body
from testing.server import LiveServer

RESULTS = Path(__file__).parent / "results"


def results_path(name: str, only: list[str] | None = None, every: list[str] | tuple[str, ...] = ()) -> Path:
    """Where a bench keeps its latest run: ``bench/results/<name>.json``, or ``<name>-<part>+<part>.json``
    for a run of some of its parts (``only``, when not ``every`` part)."""
    if only and sorted(only) != sorted(every):
        name = f"{name}-{'+'.join(only)}"
    return RESULTS / f"{name}.json"


def write_results(path: Path, report: Any) -> None:
    """Keep a run's report (the latest run replaces the one before: git has the history)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON written to {path}")


# --- inputs ----------------------------------------------------------------------------------------------


ORIENTATION = 0x0112


def generated_photos(smoke: bool) -> list[bytes]:
    """Photo-like JPEGs (smooth fields plus grain, one rotated by EXIF) when no corpus is given."""
    sizes = (
        [(1600, 1200), (1200, 1600)] if smoke else [(4032, 3024), (3264, 2448), (4608, 1976), (3000, 4000)]
    )
    photos = []
    for index, size in enumerate(sizes):
        field = Image.effect_noise((size[0] // 64, size[1] // 64), 64).convert("RGB")
        tint = Image.new("RGB", field.size, (40 * index % 255, 120, 200))
        smooth = Image.blend(field, tint, 0.4).resize(size, Image.Resampling.BICUBIC)
        grain = Image.merge("RGB", [Image.effect_noise(size, 6)] * 3)
        image = Image.blend(smooth, grain, 0.15)
        exif = Image.Exif()
        exif[ORIENTATION] = 6 if index == 1 else 1
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
        photos.append(buffer.getvalue())
    return photos


def corpus_paths(folder: Path) -> list[Path]:
    suffixes = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif", ".tif", ".tiff")
    return [path for path in sorted(folder.iterdir()) if path.suffix.lower() in suffixes]


def names_of(paths: list[Path] | None, count: int) -> list[str]:
    """Short names for the report."""
    return [path.name for path in paths] if paths else [f"generated-{index}" for index in range(count)]


# --- the bound: the plainest good Pillow pipeline, in a process pool ------------------------------------


WEBP_METHOD = 4  # the service's default WEBP_METHOD; both sides use it


@dataclass(frozen=True)
class Mix:
    name: str
    width: int
    quality: int


MIXES = (Mix("web", 1200, 80), Mix("thumbnails", 320, 75))

_BOUND_PHOTOS: list[bytes] = []


def bound_init(photos: list[bytes]) -> None:
    global _BOUND_PHOTOS  # noqa: PLW0603  (one copy per pool process)
    _BOUND_PHOTOS = photos


def bound_convert(job: tuple[int, int, int]) -> int:
    """The plainest good Pillow pipeline; returns the output size in bytes."""
    index, width, quality = job
    image = Image.open(io.BytesIO(_BOUND_PHOTOS[index]))
    orientation = image.getexif().get(ORIENTATION, 1)
    stored_width, stored_height = image.size
    upright = (stored_height, stored_width) if orientation in (5, 6, 7, 8) else (stored_width, stored_height)
    height = max(1, round(upright[1] * width / upright[0]))
    image.draft("RGB", (height, width) if orientation in (5, 6, 7, 8) else (width, height))
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    image = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=quality, method=WEBP_METHOD)
    return buffer.tell()


def run_bound(pool, photos: list[bytes], mix: Mix, reps: int) -> dict:
    jobs = [(index, mix.width, mix.quality) for _ in range(reps) for index in range(len(photos))]
    started = time.perf_counter()
    sizes = list(pool.imap_unordered(bound_convert, jobs, chunksize=1))
    return {"seconds": time.perf_counter() - started, "count": len(sizes), "bytes": sizes, "latencies": []}


# --- driving a live service ------------------------------------------------------------------------------


def run_concurrently(targets: list[Callable[[], None]]) -> float:
    """Run every target on a thread of its own, all at once; the wall time until the last has finished."""
    threads = [threading.Thread(target=target) for target in targets]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def closed_loop(jobs: list, work, clients: int = 4) -> float:
    """Run ``work(job)`` for every job with ``clients`` threads; the wall time."""
    queue = list(reversed(jobs))
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                job = queue.pop()
            try:
                work(job)
            except Exception as error:  # report every failure at the end
                with lock:
                    failures.append(repr(error))

    seconds = run_concurrently([client] * clients)
    if failures:
        msg = f"{len(failures)} requests failed: {failures[:3]}"
        raise RuntimeError(msg)
    return seconds


def post(server: LiveServer, route: str, body: tuple[bytes, str]) -> float:
    """The seconds one POST of a prepared body takes; a failure stops the benchmark."""
    started = time.perf_counter()
    status, payload = post_body(server, route, body, timeout=120)
    if status != 200:
        msg = f"{route} answered {status}: {payload[:200]!r}"
        raise RuntimeError(msg)
    return time.perf_counter() - started


def mix_body(data: bytes, mix: Mix) -> tuple[bytes, str]:
    """The /convert body of one photo in a mix."""
    return multipart(data, {"format": "webp", "width": str(mix.width), "quality": str(mix.quality)})


def run_service(server: LiveServer, bodies: list[tuple[bytes, str]], reps: int, clients: int = 4) -> dict:
    """Every body ``reps`` times through /convert by ``clients`` closed-loop clients."""
    lock = threading.Lock()
    sizes: list[int] = []
    latencies: list[float] = []

    def work(index: int) -> None:
        started = time.perf_counter()
        status, payload = post_body(server, "/convert", bodies[index], timeout=120)
        if status != 200:
            raise RuntimeError(f"{status} {payload[:200]!r}")
        with lock:
            latencies.append(time.perf_counter() - started)
            sizes.append(len(payload))

    seconds = closed_loop([index for _ in range(reps) for index in range(len(bodies))], work, clients)
    return {"seconds": seconds, "count": len(sizes), "bytes": sizes, "latencies": latencies}


# --- the report ------------------------------------------------------------------------------------------


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A markdown table for the report."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
