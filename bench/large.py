"""Large sources: time and peak memory per format, each conversion in a fresh process.

    .venv/bin/python -m bench.large

1. A 48 MP JPEG against a 12 MP one (same content), both to 1200 px WebP: draft decoding keeps the ratio low.
2. Formats that cannot be drafted (PNG, WebP, TIFF, HEIF) at about MAX_SOURCE_PIXELS, to 1200 px: the
   peak RSS is what a worker must be able to hold, and what MAX_DECODE_MB budgets.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile

from PIL import Image

from bench.common import results_path, write_results
from imgopt.imaging.source import register_plugins

MEASURE = """
import json, sys, time
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import PipelineSettings, convert
from imgopt.imaging.source import register_plugins
from imgopt.errors import ImgoptError
def hwm():  # VmHWM: peak RSS of this process (fresh after exec, unlike ru_maxrss)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
register_plugins()
data = open(sys.argv[1], "rb").read()
settings = pipeline_settings(max_source_pixels=10**9, max_decode_bytes=2**40, max_encode_seconds=10**6)
base = hwm()
times = []
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    result = convert(data, ConvertOptions(width=1200, quality=80), settings)
    times.append(time.perf_counter() - started)
peak = hwm()
print(json.dumps({"seconds": min(times), "baseline_mib": base / 1024, "peak_mib": peak / 1024,
                  "decoded": result.decoded_sizes[0]}))
"""


def photo_like(size: tuple[int, int]) -> Image.Image:
    field = Image.effect_noise((max(1, size[0] // 80), max(1, size[1] // 80)), 60).convert("RGB")
    smooth = field.resize(size, Image.Resampling.BICUBIC)
    grain = Image.merge("RGB", [Image.effect_noise(size, 5)] * 3)
    return Image.blend(smooth, grain, 0.15)


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def measure(data: bytes, repeats: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".img") as handle:
        handle.write(data)
        handle.flush()
        completed = subprocess.run(
            [sys.executable, "-c", MEASURE, handle.name, str(repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(completed.stdout)


def main() -> None:
    only = sys.argv[1:]  # names containing any of these words, e.g. HEIF
    register_plugins()
    big = photo_like((8000, 6000))
    small = big.resize((4000, 3000), Image.Resampling.LANCZOS)
    rows = {
        "JPEG 8000x6000 (48 MP)": encoded(big, "JPEG", quality=85),
        "JPEG 4000x3000 (12 MP)": encoded(small, "JPEG", quality=85),
    }
    results = {name: measure(data, 5) for name, data in rows.items()}
    ratio = results["JPEG 8000x6000 (48 MP)"]["seconds"] / results["JPEG 4000x3000 (12 MP)"]["seconds"]
    print("| source -> 1200 px WebP | upload MB | best of 5, ms | decoded at | peak RSS MiB (baseline) |")
    print("|---|---|---|---|---|")
    for name, result in results.items():
        print(
            f"| {name} | {len(rows[name]) / 1e6:.1f} | {result['seconds'] * 1000:.0f} | {result['decoded']} "
            f"| {result['peak_mib']:.0f} ({result['baseline_mib']:.0f}) |"
        )
    print(f"\n48 MP / 12 MP time ratio: {ratio:.2f}\n")

    full = {
        "PNG 7000x7000 RGB (49 MP)": lambda: encoded(photo_like((7000, 7000)), "PNG", compress_level=1),
        "PNG 7000x7000 RGBA (49 MP)": lambda: encoded(
            photo_like((7000, 7000)).convert("RGBA"), "PNG", compress_level=1
        ),
        "WebP 8000x6000 (48 MP)": lambda: encoded(big, "WEBP", quality=80, method=0),
        "TIFF 8000x6000 LZW (48 MP)": lambda: encoded(big, "TIFF", compression="tiff_lzw"),
        "HEIF 8000x6000 (48 MP)": lambda: encoded(big, "HEIF", quality=70),
        # As iPhones write them: 512 px tiles (decoded one thread per worker; docs/operations.md).
        "HEIF 8000x6000 tiled (48 MP)": lambda: encoded(big, "HEIF", quality=70, tile_size=512),
        "HEIF 4032x3024 tiled (12 MP)": lambda: encoded(
            big.resize((4032, 3024), Image.Resampling.LANCZOS), "HEIF", quality=70, tile_size=512
        ),
    }
    print("| full-size decode -> 1200 px WebP | upload MB | ms | peak RSS MiB (baseline) | above baseline |")
    print("|---|---|---|---|---|")
    report = {"jpeg": results, "jpeg_ratio": ratio, "full_size": {}}
    for name, make in full.items():
        if only and not any(word in name for word in only):
            continue
        data = make()
        result = measure(data, 1)
        report["full_size"][name] = result
        print(
            f"| {name} | {len(data) / 1e6:.1f} | {result['seconds'] * 1000:.0f} | {result['peak_mib']:.0f} "
            f"({result['baseline_mib']:.0f}) | {result['peak_mib'] - result['baseline_mib']:.0f} |",
            flush=True,
        )
    write_results(results_path("large"), report)


if __name__ == "__main__":
    main()
