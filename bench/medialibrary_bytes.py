"""Bytes and SSIMULACRA2 of a media library conversion that sets no quality(), GD against imgopt (issue 36):
GD's defaults (spatie/image's GD driver, quality -1), imgopt with the package's mapping of those defaults
(the ImgoptDriver), and imgopt's quality=auto at its default target (a /convert of the same size). Each
1200 px JPEG, WebP and AVIF is scored against the upright photo resized by Lanczos, losslessly.

    MEDIALIBRARY_APP=... .venv/bin/python -m bench.medialibrary_bytes ../shared/corpus/photos
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
from pathlib import Path

import requests
from PIL import Image, ImageOps

from bench.common import corpus_paths, generated_photos, results_path, write_results
from imgopt.imaging.quality.ssimulacra2 import Scorer
from testing.medialibrary_app import FIXTURES, missing_app, prepare
from testing.server import start_gunicorn, stop_gunicorn

FORMATS = ("jpg", "webp", "avif")
WIDTH = 1200


def run(photo_dir: Path | None, limit: int = 6) -> dict:
    """The table for up to ``limit`` JPEGs of ``photo_dir`` (photo-like ones it makes without a folder)."""
    if (why := missing_app()) is not None:
        print(f"medialibrary_bytes: skipped, {why}")
        return {"skipped": why}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if photo_dir is None:
            photos = []
            for index, data in enumerate(generated_photos(smoke=False)):
                photos.append(work / f"generated-{index}.jpg")
                photos[-1].write_bytes(data)
        else:
            photos = [path for path in corpus_paths(photo_dir) if path.suffix.lower() in (".jpg", ".jpeg")]
        server = start_gunicorn(work / "service")
        try:
            app = prepare(work / "app", server.url, server.token)
            rows = [row for photo in photos[:limit] for row in measure(app, server, photo, work)]
        finally:
            stop_gunicorn(server)
    summary = summarise(rows)
    print(json.dumps(summary, indent=2))
    return {"rows": rows, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("photos", nargs="?", type=Path)
    parser.add_argument("--limit", type=int, default=6)
    arguments = parser.parse_args()
    write_results(results_path("medialibrary_bytes"), run(arguments.photos, arguments.limit))


def measure(app, server, photo: Path, work: Path) -> list[dict]:
    cases = {fmt: [["width", WIDTH], ["format", fmt]] for fmt in FORMATS}
    (work / "cases.json").write_text(json.dumps(cases))
    out = work / photo.stem
    out.mkdir()
    made = json.loads(
        app.run(
            "php",
            str(FIXTURES / "manipulations.php"),
            str(app.root),
            str(photo.resolve()),
            str(work / "cases.json"),
            str(out),
        ).stdout
    )
    with Image.open(photo) as source:
        upright = ImageOps.exif_transpose(source).convert("RGB")
    rows = []
    for row in made:
        fmt = row["name"]
        if not isinstance(row["gd"], list) or not isinstance(row["imgopt"], list):
            print(f"{photo.name} {fmt}: gd: {row['gd']}; imgopt: {row['imgopt']}", flush=True)
            continue
        size = tuple(row["gd"])
        scorer = Scorer(upright.resize(size, Image.Resampling.LANCZOS))
        auto = requests.post(
            f"{server.url}/convert",
            headers=server.headers(),
            files={"file": photo.read_bytes()},
            data={
                "width": size[0],
                "height": size[1],
                "fit": "fill",
                "format": "jpeg" if fmt == "jpg" else fmt,
                "quality": "auto",
            },
            timeout=120,
        )
        auto.raise_for_status()
        files = {
            "gd": Path(row["gd_file"]).read_bytes(),
            "imgopt": Path(row["imgopt_file"]).read_bytes(),
            "auto": auto.content,
        }
        entry = {"photo": photo.name, "format": fmt, "size": size}
        for side, data in files.items():
            with Image.open(io.BytesIO(data)) as decoded:
                entry[side] = {"bytes": len(data), "score": round(scorer.score(decoded.convert("RGB")), 2)}
        rows.append(entry)
        print(json.dumps(entry), flush=True)
    return rows


def summarise(rows: list[dict]) -> dict:
    summary = {}
    for fmt in FORMATS:
        mine = [row for row in rows if row["format"] == fmt]
        summary[fmt] = {
            side: {
                "bytes_vs_gd": round(statistics.mean(r[side]["bytes"] / r["gd"]["bytes"] for r in mine), 3),
                "score_minus_gd": round(
                    statistics.mean(r[side]["score"] - r["gd"]["score"] for r in mine), 2
                ),
                "no_larger_and_no_worse": sum(
                    r[side]["bytes"] <= r["gd"]["bytes"] and r[side]["score"] >= r["gd"]["score"]
                    for r in mine
                ),
                "of": len(mine),
            }
            for side in ("imgopt", "auto")
        }
    return summary


if __name__ == "__main__":
    main()
