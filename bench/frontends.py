"""What a phone's slot gets from the image contract against next/image (issue 38): for each photo, the
contract's AVIF at 1080 px (the check site's set, testing/frontends.py) and what a real Next.js app's
next/image makes at 1080 px from the CMS's 1920 px WebP (its default quality, 75), in bytes and SSIMULACRA2
against the upright photo resized by Lanczos. The pages' own bytes are measured in Chromium by
tests/test_frontends.py (FRONTEND_RESULTS).

    .venv/bin/python -m bench.frontends ../shared/corpus/photos
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import urllib.parse
from pathlib import Path

import requests
from PIL import Image, ImageOps

from bench.common import corpus_paths, generated_photos, results_path, write_results
from imgopt.imaging.quality.ssimulacra2 import Scorer
from testing.frontends import build_cms, build_js_package, missing, start_next
from testing.server import start_gunicorn, stop_gunicorn

WIDTH = 1080  # a 358 px slot at DPR 3, next/image's device size for it


def run(photo_dir: Path | None, limit: int = 6) -> dict:
    if (why := missing()) is not None:
        print(f"frontends: skipped, {why}")
        return {"skipped": why}
    if photo_dir is None:
        photos = [(f"generated-{i}.jpg", data) for i, data in enumerate(generated_photos(smoke=False))]
    else:
        paths = [path for path in corpus_paths(photo_dir) if path.suffix.lower() in (".jpg", ".jpeg")]
        photos = [(path.name.replace(" ", "-"), path.read_bytes()) for path in paths[:limit]]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        service = start_gunicorn(work / "service")
        cms = site = None
        try:
            cms = build_cms(work / "app", service, photos)
            build_js_package()
            site = start_next(cms, work)
            rows = [
                measure(site.url, photo, data) for photo, (_, data) in zip(cms.photos, photos, strict=True)
            ]
        finally:
            if site is not None:
                site.stop()
            if cms is not None:
                cms.app.stop()
            stop_gunicorn(service)
    summary = {
        side: {
            "bytes_vs_next_image": round(
                statistics.mean(r[side]["bytes"] / r["next_image"]["bytes"] for r in rows), 3
            ),
            "score_minus_next_image": round(
                statistics.mean(r[side]["score"] - r["next_image"]["score"] for r in rows), 2
            ),
            "scores_no_lower": sum(r[side]["score"] >= r["next_image"]["score"] for r in rows),
            "of": len(rows),
        }
        for side in ("contract_avif",)
    }
    print(json.dumps(summary, indent=2))
    return {"width": WIDTH, "rows": rows, "summary": summary}


def measure(next_url: str, photo: dict, data: bytes) -> dict:
    avif = next(
        item.rsplit(" ", 1)[0]
        for source in photo["contract"]["sources"]
        if source["type"] == "image/avif"
        for item in source["srcset"].split(", ")
        if item.endswith(f" {WIDTH}w")
    )
    query = urllib.parse.urlencode({"url": photo["webp1920"], "w": WIDTH, "q": 75})
    files = {
        "contract_avif": requests.get(avif, timeout=60).content,
        "next_image": requests.get(
            f"{next_url}/_next/image?{query}", headers={"Accept": "image/webp"}, timeout=120
        ).content,
    }
    with Image.open(io.BytesIO(data)) as source:
        upright = ImageOps.exif_transpose(source).convert("RGB")
    row = {"photo": photo["contract"]["alt"]}
    scorers: dict[tuple[int, int], Scorer] = {}
    for side, content in files.items():
        with Image.open(io.BytesIO(content)) as decoded:
            image = decoded.convert("RGB")
        if image.size not in scorers:
            scorers[image.size] = Scorer(upright.resize(image.size, Image.Resampling.LANCZOS))
        row[side] = {
            "bytes": len(content),
            "size": list(image.size),
            "score": round(scorers[image.size].score(image), 2),
        }
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("photos", nargs="?", type=Path)
    parser.add_argument("--limit", type=int, default=6)
    arguments = parser.parse_args()
    write_results(results_path("frontends"), run(arguments.photos, arguments.limit))


if __name__ == "__main__":
    main()
