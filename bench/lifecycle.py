"""Worker memory over a worker's life: what HEIC, RGBA PNG and a diverse corpus leave behind.

One worker, MAX_REQUESTS=0 so that recycling hides nothing. For each phase a fresh server: RSS after start
(and one small conversion, so code is loaded), then the phase's conversions, then RSS and the phase's peak.
The corpus phase is three passes over the generated hostile corpus (testing/hostile.py) plus every file of
../shared/corpus, with RSS after each pass. ``--root`` runs another checkout, for before/after tables.

    .venv/bin/python -m bench.lifecycle [CORPUS_ROOT] [--root CHECKOUT] [--json PATH] [--env KEY=VALUE]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench.common import results_path, write_results
from testing.http import post
from testing.server import ROOT, LiveServer, memory_of, reset_peak, start_gunicorn, stop_gunicorn

OUTPUTS = ({"format": "webp", "width": "1200"}, {"format": "avif", "width": "1200"})


# The worker gives memory back after it has sent a response (post_request), so wait before reading RSS.
SETTLE_SECONDS = 0.5


def heic_photos(corpus: Path | None) -> list[bytes]:
    """Two 12 MP HEIC photos with embedded thumbnails, as an iPhone makes them (made with pillow-heif's
    x265 encoder from the corpus photos, or from generated ones)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    sources = []
    if corpus and (corpus / "photos").is_dir():
        for name in ("phone_4032x3024.jpg", "iphone_hdr_YES.jpg"):
            path = corpus / "photos" / name
            if path.is_file():
                sources.append(Image.open(path).convert("RGB").resize((4032, 3024)))
    while len(sources) < 2:
        noise = (
            Image.effect_noise((126, 95), 64).convert("RGB").resize((4032, 3024), Image.Resampling.BICUBIC)
        )
        sources.append(noise)
    photos = []
    for image in sources:
        buffer = io.BytesIO()
        # Tiled in 512 px squares with a 320 px thumbnail, as an iPhone writes them.
        image.save(buffer, "HEIF", quality=80, thumbnails=[320], tile_size=512)
        photos.append(buffer.getvalue())
    return photos


def corpus_files(corpus: Path | None) -> list[bytes]:
    """The hostile corpus the tests generate, plus every file of the shared corpus."""
    from testing import hostile

    files = list(hostile.corpus().values())
    if corpus:
        files += [path.read_bytes() for path in sorted(corpus.rglob("*")) if path.is_file()]
    return files


def convert(server: LiveServer, data: bytes, fields: dict[str, str]) -> int:
    return post(server, "/convert", data, timeout=120, **fields).status_code


def fresh_worker(tmp: Path, name: str, root: Path, env: dict[str, str]) -> tuple[LiveServer, int, float]:
    """A one-worker server with code loaded; (server, worker pid, RSS MiB)."""
    server = start_gunicorn(
        tmp / name, root, WEB_CONCURRENCY="1", MAX_REQUESTS="0", LOG_LEVEL="warning", **env
    )
    pid = server.worker_pids()[0]
    small = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(small, "JPEG")
    for fields in OUTPUTS:
        convert(server, small.getvalue(), fields)
    time.sleep(SETTLE_SECONDS)
    return server, pid, memory_of(pid)["VmRSS"]


def phase(
    tmp: Path, name: str, uploads: list[bytes], repeat: int, *, root: Path, env: dict[str, str]
) -> dict:
    """Baseline, then ``repeat`` conversions cycling through ``uploads`` and the outputs."""
    server, pid, baseline = fresh_worker(tmp, name, root, env)
    try:
        reset_peak(pid)
        statuses = [
            convert(server, uploads[i % len(uploads)], OUTPUTS[i % len(OUTPUTS)]) for i in range(repeat)
        ]
        time.sleep(SETTLE_SECONDS)
        facts = memory_of(pid)
        assert server.worker_pids() == [pid], "the worker was replaced; the figures would mean nothing"
    finally:
        stop_gunicorn(server)
    return {
        "baseline_mib": round(baseline, 1),
        "after_mib": round(facts["VmRSS"], 1),
        "peak_mib": round(facts["VmHWM"], 1),
        "after_minus_baseline": round(facts["VmRSS"] - baseline, 1),
        "peak_minus_baseline": round(facts["VmHWM"] - baseline, 1),
        "statuses": sorted(set(statuses)),
    }


def corpus_passes(tmp: Path, files: list[bytes], passes: int, root: Path, env: dict[str, str]) -> dict:
    server, pid, baseline = fresh_worker(tmp, "corpus", root, env)
    after = []
    try:
        for _ in range(passes):
            for index, data in enumerate(files):
                convert(server, data, OUTPUTS[index % len(OUTPUTS)])
            time.sleep(SETTLE_SECONDS)
            after.append(round(memory_of(pid)["VmRSS"], 1))
        replaced = server.worker_pids() != [pid]
    finally:
        stop_gunicorn(server)
    return {"baseline_mib": round(baseline, 1), "after_each_pass_mib": after, "worker_replaced": replaced}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, help="the shared corpus root (photos/, edge/)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--json", type=Path, default=results_path("lifecycle"), help="default: %(default)s")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server, repeatable")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    report = measure(args.corpus, args.root, env, args.passes)
    write_results(args.json, report)


def measure(corpus: Path | None, root: Path, env: dict[str, str], passes: int = 3) -> dict:
    """Every phase against the checkout at ``root``; prints each as it ends."""
    heic = heic_photos(corpus)
    heif16 = (corpus / "edge" / "HMD_Nokia_8.3_5G.heif") if corpus else None
    rgba = (corpus / "photos" / "alpha-2048x1536.png") if corpus else None
    report: dict = {"root": str(root), "env": env}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        report["heic_12mp_x10"] = phase(tmp, "heic", heic, 10, root=root, env=env)
        print("heic", report["heic_12mp_x10"], flush=True)
        if heif16 and heif16.is_file():
            report["heif_16mp_x10"] = phase(tmp, "heif", [heif16.read_bytes()], 10, root=root, env=env)
            print("heif16", report["heif_16mp_x10"], flush=True)
        png = rgba.read_bytes() if rgba and rgba.is_file() else _rgba_png()
        report["rgba_png_x5"] = phase(tmp, "png", [png], 5, root=root, env=env)
        print("rgba png", report["rgba_png_x5"], flush=True)
        report["corpus"] = corpus_passes(tmp, corpus_files(corpus), passes, root, env)
        print("corpus", report["corpus"], flush=True)
    return report


def _rgba_png() -> bytes:
    image = Image.merge("RGBA", [Image.effect_noise((2048, 1536), 40 + 20 * band) for band in range(4)])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


if __name__ == "__main__":
    main()
