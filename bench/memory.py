"""Worker memory under the bench workload with different allocator settings, one server per variant.

    .venv/bin/python -m bench.memory [CORPUS_DIR] [--passes 2]

Prints worker peak RSS (VmHWM), RSS and PSS after the workload, for each variant side by side.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench.bench import MIXES, corpus_photos, generated_photos, multipart, run_service
from bench.server import memory_of, start_gunicorn, stop_gunicorn

JEMALLOC = next(
    (str(path) for path in Path("/usr/lib").glob("*/libjemalloc.so.2")),
    None,
)
VARIANTS: dict[str, dict[str, str]] = {
    "glibc defaults (as shipped)": {},
    "MALLOC_ARENA_MAX=2": {"MALLOC_ARENA_MAX": "2"},
    "MALLOC_MMAP_THRESHOLD_=128K": {"MALLOC_MMAP_THRESHOLD_": "131072"},
    "MALLOC_TRIM_THRESHOLD_=128K": {"MALLOC_TRIM_THRESHOLD_": "131072"},
}
if JEMALLOC:
    VARIANTS["jemalloc"] = {"LD_PRELOAD": JEMALLOC}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    photos = corpus_photos(args.corpus) if args.corpus else generated_photos(smoke=False)
    print("| variant | worker peak RSS MiB (max) | worker RSS after | worker PSS after |")
    print("|---|---|---|---|")
    for name, env in VARIANTS.items():
        tmp = Path(tempfile.mkdtemp())
        server = start_gunicorn(tmp, WEB_CONCURRENCY="2", LOG_LEVEL="warning", **env)
        try:
            for mix in MIXES:
                run_service(server, [multipart(photo, mix) for photo in photos], args.passes)
            workers = [memory_of(pid) for pid in server.worker_pids()]
        finally:
            stop_gunicorn(server)
            shutil.rmtree(tmp, ignore_errors=True)
        print(
            f"| {name} | {max(w['VmHWM'] for w in workers):.1f} | {max(w['VmRSS'] for w in workers):.1f} "
            f"| {max(w['Pss'] for w in workers):.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
