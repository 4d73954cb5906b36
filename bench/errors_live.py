"""Print every row of the error table as a real gunicorn answers it (status and code).

.venv/bin/python -m bench.errors_live
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import requests

from testing import hostile, images
from testing.http import post
from testing.server import LiveServer, start_gunicorn, stop_gunicorn


def outcome(response: requests.Response) -> str:
    if response.headers.get("Content-Type", "").startswith("application/json"):
        return response.json()["error"]["code"]
    return response.headers.get("Content-Type", "")


def convert(
    server: LiveServer, data: bytes | None = None, headers: dict | None = None, **fields
) -> requests.Response:
    return post(server, "/convert", images.jpeg() if data is None else data, headers, timeout=30, **fields)


def curl_413(server: LiveServer, expect: str, big: Path) -> str:
    completed = subprocess.run(
        ["curl", "-sS", "-H", f"Authorization: Bearer {server.token}", "-H", expect,
         "-F", f"file=@{big}", "-w", "\n%{http_code}", f"{server.url}/convert"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    body, status = completed.stdout.rsplit("\n", 1)
    code = json.loads(body)["error"]["code"]
    return f"| 41 MiB via curl ({expect}) | {status} | {code}, curl exit {completed.returncode} |"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_gunicorn(Path(tmp) / "server")
        url, auth = server.url, server.headers()
        rows = [
            ("valid JPEG -> WebP", convert(server)),
            ("valid JPEG -> AVIF", convert(server, format="avif")),
            (
                "raw image/jpeg body",
                requests.post(f"{url}/convert", headers={**auth, "Content-Type": "image/jpeg"}),
            ),
            ("no body", requests.post(f"{url}/convert", headers=auth, timeout=10)),
            (
                "multipart without file",
                requests.post(f"{url}/convert", headers=auth, files={"format": (None, "webp")}),
            ),
            ("empty file", convert(server, b"")),
            ("quality=0", convert(server, quality="0")),
            ("width=5000", convert(server, width="5000")),
            ("format=gif", convert(server, format="gif")),
            ("fit=stretch", convert(server, fit="stretch")),
            ("missing token", convert(server, headers={})),
            ("wrong token", convert(server, headers={"Authorization": "Bearer nope"})),
            ("GET /nope", requests.get(f"{url}/nope", timeout=10)),
            ("GET /convert", requests.get(f"{url}/convert", timeout=10)),
            ("text file", convert(server, b"hello world")),
            ("TGA image", convert(server, images.encode(images.gradient((8, 8)), "TGA"))),
            ("truncated JPEG", convert(server, images.jpeg((300, 300))[:500])),
            ("PNG claiming 60000x60000", convert(server, hostile.png_claiming(60000, 60000))),
            ("GIF with 10,000 frames", convert(server, hostile.gif_frames(10000))),
        ]
        print("| case | status | code or content type |\n|---|---|---|")
        for label, response in rows:
            print(f"| {label} | {response.status_code} | {outcome(response)} |")
        big = Path(tmp) / "big.bin"
        big.write_bytes(os.urandom(41 * 1024 * 1024))
        for expect in ("Expect: 100-continue", "Expect:"):
            print(curl_413(server, expect, big))
        stop_gunicorn(server)


if __name__ == "__main__":
    main()
