"""Behaviour check for a refactoring: every /convert and /variants answer of this checkout against another's.

Two real gunicorns (this checkout and ``--root``, e.g. a git worktree of the previous release) get the same
requests: each image (the corpus folders given, plus generated test images) x output format x a few option
sets to /convert, and the CMS set to /variants. Statuses, headers and bodies must match byte for byte; AVIF
is compared by size and decoded pixels, because aom's encodes are not byte-repeatable between processes.

    .venv/bin/python -m bench.identity ../shared/corpus/photos ../shared/corpus/edge --root /tmp/prev
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import tempfile
from pathlib import Path

from PIL import Image

from bench.common import results_path, write_results
from testing import images
from testing.http import multipart, post_body
from testing.server import ROOT, LiveServer, start_gunicorn, stop_gunicorn

FORMATS = ("webp", "avif", "jpeg", "png")
OPTION_SETS = (
    {},
    {"width": "320"},
    {"width": "1200", "quality": "70"},
    {"width": "640", "height": "320", "fit": "cover", "gravity": "smart"},
    {"width": "300", "height": "300", "fit": "contain", "crop": "10,10,200,150"},
    {"width": "400", "quality": "auto"},
)
HEADERS = ("Content-Type", "X-Image-Width", "X-Image-Height", "X-Image-Quality", "X-Image-Score")
CMS_SET = json.dumps(
    [
        {"name": f"{fmt}-{width}", "format": fmt, "width": width}
        for width in (320, 768, 1200)
        for fmt in ("webp", "avif")
    ]
)


def generated() -> dict[str, bytes]:
    """Test images the suite makes: rotated, transparent, animated, CMYK, 16-bit, ICC-tagged."""
    return {
        "photo-rotated.jpg": images.photo((1600, 1200), orientation=6),
        "gradient.png": images.encode(images.gradient((300, 200)), "PNG"),
        "transparent.png": images.encode(Image.new("RGBA", (300, 200), (0, 80, 200, 100)), "PNG"),
        "colourful.webp": images.encode(images.colourful((200, 200)), "WEBP", quality=90),
        "cmyk.jpg": images.encode(images.colourful((200, 150)).convert("CMYK"), "JPEG"),
        "grey16.png": images.encode(images.gradient((128, 96), "I;16"), "PNG"),
        "animated.gif": images.animation(
            [(255, 0, 0), (0, 255, 0), (0, 0, 255)], [100, 200, 300], "GIF", loop=0
        ),
    }


def same_image(a: bytes, b: bytes) -> bool:
    """Same size and the same pixels (for AVIF, whose encodes differ in bytes between processes)."""
    if len(a) != len(b):
        return False
    first, second = Image.open(io.BytesIO(a)), Image.open(io.BytesIO(b))
    return first.size == second.size and first.convert("RGBA").tobytes() == second.convert("RGBA").tobytes()


def same_body(route: str, fmt: str, a: bytes, b: bytes) -> bool:
    if a == b:
        return True
    if route == "/convert":
        return fmt == "avif" and same_image(a, b)
    try:
        left, right = json.loads(a), json.loads(b)
    except ValueError:
        return False
    if left.keys() != right.keys() or {k: left[k] for k in left if k != "variants"} != {
        k: right[k] for k in right if k != "variants"
    }:
        return False
    for one, two in zip(left.get("variants", []), right.get("variants", []), strict=True):
        data_one, data_two = base64.b64decode(one.pop("data")), base64.b64decode(two.pop("data"))
        if one != two or not (
            data_one == data_two or (one["format"] == "avif" and same_image(data_one, data_two))
        ):
            return False
    return True


def compare(servers: tuple[LiveServer, LiveServer], route: str, data: bytes, fields: dict[str, str]) -> dict:
    answers = []
    for server in servers:
        # Error bodies are compared by code and message: each server makes up its own request ids.
        status, body = post_body(server, route, multipart(data, fields))
        answers.append((status, body))
    (status_a, body_a), (status_b, body_b) = answers
    fmt = fields.get("format", "webp")
    if status_a >= 400 or status_b >= 400:
        same = (
            status_a == status_b
            and json.loads(body_a)["error"]["code"] == json.loads(body_b)["error"]["code"]
        )
        same = same and json.loads(body_a)["error"]["message"] == json.loads(body_b)["error"]["message"]
    else:
        same = status_a == status_b and same_body(route, fmt, body_a, body_b)
    return {
        "route": route,
        "fields": fields,
        "status": status_a,
        "same": same,
        "bytes_identical": body_a == body_b,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="*", type=Path, help="folders of images")
    parser.add_argument("--root", type=Path, required=True, help="the other checkout")
    parser.add_argument("--json", type=Path, default=results_path("identity"), help="default: %(default)s")
    args = parser.parse_args()
    uploads = generated()
    for folder in args.corpus:
        uploads.update({path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()})
    with tempfile.TemporaryDirectory() as tmp:
        this = start_gunicorn(Path(tmp) / "this", LOG_LEVEL="warning")
        other = start_gunicorn(Path(tmp) / "other", args.root.resolve(), LOG_LEVEL="warning")
        rows = []
        try:
            for name, data in uploads.items():
                for fmt in FORMATS:
                    for options in OPTION_SETS:
                        if options.get("quality") == "auto" and fmt == "png":
                            continue
                        rows.append(
                            {
                                "image": name,
                                **compare((this, other), "/convert", data, {"format": fmt, **options}),
                            }
                        )
                rows.append(
                    {"image": name, **compare((this, other), "/variants", data, {"variants": CMS_SET})}
                )
                rows.append({"image": name, **compare((this, other), "/info", data, {})})
        finally:
            stop_gunicorn(this)
            stop_gunicorn(other)
    differing = [row for row in rows if not row["same"]]
    ok = [row for row in rows if row["status"] < 400]
    identical = sum(row["bytes_identical"] for row in rows)
    print(
        f"{len(rows)} requests on {len(uploads)} images ({ROOT.name} vs {args.root}): "
        f"{len(rows) - len(differing)} answered the same ({identical} byte for byte, "
        f"{len(ok)} of them 2xx); {len(differing)} differ"
    )
    for row in differing:
        print("  DIFFERS:", row)
    write_results(args.json, rows)
    raise SystemExit(1 if differing else 0)


if __name__ == "__main__":
    main()
