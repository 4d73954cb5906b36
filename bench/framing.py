"""The framing part of `make bench`: what gravity=smart costs against a centre crop, and how often its window
agrees with libvips' attention crop (pyvips + pyvips-binary, installed by `make bench`; skipped without them).

Agreement is the intersection over union of the two windows, in fractions of the upright image, for square
and 2:1 covers; the centre window and libvips' own entropy crop are scored the same way for comparison.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from PIL import Image, ImageDraw

from bench.common import closed_loop, markdown_table
from imgopt.imaging import geometry
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.pipeline import convert
from imgopt.imaging.source import apply_draft, open_image, oriented_size, read_orientation
from imgopt.imaging.steps import FrameJob, place_smart_window, turn_upright
from testing.http import multipart, post_body
from testing.server import LiveServer
from testing.settings import pipeline_settings

COVERS = ((320, 320), (640, 320))
Box = tuple[float, float, float, float]


def our_window(data: bytes, box: tuple[int, int], gravity: str) -> Box:
    """The window the service keeps for a cover of ``box``, as fractions of the upright image."""
    options = ConvertOptions(width=box[0], height=box[1], fit="cover", gravity=gravity)
    result = convert(data, options, pipeline_settings())
    assert result.rendition.crop_box is not None
    left, top, right, bottom = result.rendition.crop_box
    width, height = result.source.width, result.source.height
    return left / width, top / height, right / width, bottom / height


def vips_window(data: bytes, box: tuple[int, int], interesting: str) -> Box:
    """libvips' window for the same cover (its thumbnail with crop=attention or entropy)."""
    import pyvips

    upright_image = pyvips.Image.new_from_buffer(data, "").autorot()
    width, height = upright_image.width, upright_image.height
    cropped = pyvips.Image.thumbnail_buffer(data, box[0], height=box[1], crop=interesting)
    scale = max(box[0] / width, box[1] / height)
    shrunk = (round(width * scale), round(height * scale))
    left, top = -cropped.get("xoffset"), -cropped.get("yoffset")
    return (
        left / shrunk[0],
        top / shrunk[1],
        (left + box[0]) / shrunk[0],
        (top + box[1]) / shrunk[1],
    )


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def agreement(photos: list[bytes], names: list[str]) -> dict | None:
    """IoU with libvips' attention window per photo and cover, for ours, centre and libvips entropy."""
    try:
        import pyvips  # noqa: F401
    except ImportError:
        print("framing: pyvips is not installed (make bench installs it); agreement with libvips skipped")
        return None
    rows = []
    for photo, name in zip(photos, names, strict=True):
        for box in COVERS:
            try:
                reference = vips_window(photo, box, "attention")
            except Exception as error:  # a format pyvips-binary cannot read (HEIF): say so, go on
                print(f"framing: libvips cannot read {name}: {str(error).splitlines()[0]}")
                break
            rows.append(
                {
                    "photo": name,
                    "cover": f"{box[0]}x{box[1]}",
                    "smart": iou(our_window(photo, box, "smart"), reference),
                    "centre": iou(our_window(photo, box, "center"), reference),
                    "vips_entropy": iou(vips_window(photo, box, "entropy"), reference),
                    "windows": {
                        "vips": reference,
                        "smart": our_window(photo, box, "smart"),
                        "centre": our_window(photo, box, "center"),
                    },
                }
            )
    means = {key: statistics.mean(row[key] for row in rows) for key in ("smart", "centre", "vips_entropy")}
    return {"rows": rows, "means": means}


def cost(server: LiveServer, photos: list[bytes], rounds: int, reps: int) -> dict:
    """Requests per second for cover crops with gravity=smart and gravity=center, interleaved by round."""
    report = {}
    for box in COVERS:
        bodies = {
            gravity: [
                multipart(
                    photo, {"width": str(box[0]), "height": str(box[1]), "fit": "cover", "gravity": gravity}
                )
                for photo in photos
            ]
            for gravity in ("smart", "center")
        }
        seconds = {"smart": 0.0, "center": 0.0}
        counts = {"smart": 0, "center": 0}

        def work(body: tuple[bytes, str]) -> None:
            _ok(server, body)

        for gravity in ("smart", "center"):  # warm-up
            closed_loop(bodies[gravity][:2], work)
        # Short blocks of one pass each, alternating (ABBA), so drift in a shared machine hits both alike.
        for block in range(2 * rounds * reps):
            order = ("smart", "center") if block % 2 == 0 else ("center", "smart")
            for gravity in order:
                seconds[gravity] += closed_loop(bodies[gravity], work)
                counts[gravity] += len(bodies[gravity])
        rates = {gravity: counts[gravity] / seconds[gravity] for gravity in seconds}
        report[f"{box[0]}x{box[1]}"] = {
            "smart_per_second": rates["smart"],
            "center_per_second": rates["center"],
            "smart_cost_vs_center": rates["center"] / rates["smart"],
        }
    return report


def _ok(server: LiveServer, body: tuple[bytes, str]) -> None:
    status, payload = post_body(server, "/convert", body)
    if status != 200:
        msg = f"{status} {payload[:200]!r}"
        raise RuntimeError(msg)


def attention_timing(photos: list[bytes], reps: int = 20) -> dict:
    """In process, per 320x320 cover: ms to choose the smart window on the decode the request makes, and ms
    of the whole centre-crop conversion, so the added cost is a ratio of two stable numbers. The window step
    is timed alone, so the decode it needs is made here with the pipeline's own steps."""
    settings = pipeline_settings()
    choose, whole = [], []
    for photo in photos:
        options = ConvertOptions(width=320, height=320, fit="cover")
        with open_image(photo) as source:
            orientation = read_orientation(source, [])
            size = oriented_size(source.size, orientation)
            plan = geometry.plan(size, ConvertOptions(width=320, height=320, fit="cover", gravity="smart"))
            apply_draft(source, plan.scaled_source, orientation)
            source.load()
            base = turn_upright(source, orientation)
            grid = geometry.grid(size, base.size, orientation)
            job = FrameJob(orientation, grid, None, settings.cmyk_profile, [], plan=plan)
        started = time.perf_counter()
        for _ in range(reps):
            place_smart_window(base, job)
        choose.append((time.perf_counter() - started) / reps * 1000)
        started = time.perf_counter()
        for _ in range(max(1, reps // 4)):
            convert(photo, options, settings)
        whole.append((time.perf_counter() - started) / max(1, reps // 4) * 1000)
    return {
        "choose_ms": statistics.mean(choose),
        "centre_conversion_ms": statistics.mean(whole),
        "ratio": (statistics.mean(whole) + statistics.mean(choose)) / statistics.mean(whole),
    }


def draw_examples(
    photos: list[bytes], names: list[str], result: dict, folder: Path, count: int = 3
) -> list[Path]:
    """Small PNGs: the photo with the three windows drawn (libvips dashed white, centre red, smart green),
    then the centre crop and the smart crop."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    chosen = sorted(
        (row for row in result["rows"] if row["cover"] == "320x320"),
        key=lambda row: row["smart"] - row["centre"],
    )[-count:]
    for row in chosen:
        photo = photos[names.index(row["photo"])]
        with open_image(photo) as source:
            orientation = read_orientation(source, [])
            source.draft("RGB", (480, 480))
            source.load()
            image = turn_upright(source, orientation).convert("RGB")
        image.thumbnail((320, 240))
        panel = Image.new("RGB", (image.width + 2 * image.height + 16, image.height), "white")
        panel.paste(image, (0, 0))
        draw = ImageDraw.Draw(panel)
        windows = row["windows"]
        for key, colour in (("vips", "white"), ("centre", (230, 30, 30)), ("smart", (30, 200, 60))):
            box = windows[key]
            xy = [
                box[0] * image.width,
                box[1] * image.height,
                box[2] * image.width - 1,
                box[3] * image.height - 1,
            ]
            draw.rectangle(xy, outline=colour, width=3 if key != "vips" else 1)
        for position, key in enumerate(("centre", "smart")):
            box = windows[key]
            crop = image.crop(
                (
                    round(box[0] * image.width),
                    round(box[1] * image.height),
                    round(box[2] * image.width),
                    round(box[3] * image.height),
                )
            ).resize((image.height, image.height))
            panel.paste(crop, (image.width + 8 + position * (image.height + 8), 0))
        path = folder / f"smart-{Path(row['photo']).stem}.png"
        panel.quantize(128).save(path, optimize=True)
        written.append(path)
    return written


def print_report(agreement_result: dict | None, costs: dict, attention: dict) -> None:
    """The tables docs/fidelity.md and docs/performance.md quote."""
    if agreement_result:
        rows = [
            [
                row["photo"],
                row["cover"],
                f"{row['smart']:.2f}",
                f"{row['centre']:.2f}",
                f"{row['vips_entropy']:.2f}",
            ]
            for row in agreement_result["rows"]
        ]
        means = agreement_result["means"]
        rows.append(
            [
                "**mean**",
                "",
                f"**{means['smart']:.3f}**",
                f"{means['centre']:.3f}",
                f"{means['vips_entropy']:.3f}",
            ]
        )
        header = [
            "photo",
            "cover",
            "smart vs libvips attention (IoU)",
            "centre vs libvips",
            "libvips entropy vs attention",
        ]
        print("\n" + markdown_table(header, rows))
    rows = [
        [
            cover,
            f"{figures['center_per_second']:.2f}",
            f"{figures['smart_per_second']:.2f}",
            f"{figures['smart_cost_vs_center']:.3f}",
        ]
        for cover, figures in costs.items()
    ]
    print(
        "\n"
        + markdown_table(["cover (WebP)", "centre req/s", "smart req/s", "smart cost / centre cost"], rows)
    )
    print(
        f"\nin process, 320x320 covers: choosing the smart window {attention['choose_ms']:.2f} ms, the whole "
        f"centre-crop conversion {attention['centre_conversion_ms']:.1f} ms: "
        f"smart costs {attention['ratio']:.3f}x"
    )
