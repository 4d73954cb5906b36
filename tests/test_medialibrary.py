"""spatie/laravel-medialibrary on imgopt, in a real app (MEDIALIBRARY_APP; skipped, saying why, without one):
the one config line, every manipulation imgopt makes against spatie/image's own GD driver, a CMS article's
conversions through the queue (a crop, a fit, WebP and AVIF, one nonQueued, one withResponsiveImages) with
one /variants per media item and phase, getSrcset(), the placeholder, toHtml(), media-library:regenerate, a
HEIC upload, what imgopt cannot make, and the queue worker's peak RSS beside GD's."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
import requests
from PIL import Image, ImageChops, ImageStat

from testing import images
from testing.medialibrary_app import FIXTURES, MediaLibraryApp, missing_app, prepare
from testing.server import start_gunicorn, stop_gunicorn

WHY_NOT = missing_app()
pytestmark = [pytest.mark.live, pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")]

# The article's conversions (testing/medialibrary/ImgoptArticle.php): name -> (format, size from 4032x3024).
CONVERSIONS = {
    "thumb": ("JPEG", (368, 232)),
    "preview": ("WEBP", (1200, 900)),
    "square": ("AVIF", (400, 400)),
    "banner": ("WEBP", (1500, 500)),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    server = start_gunicorn(tmp_path_factory.mktemp("medialibrary-service"))
    yield server
    stop_gunicorn(server)


@pytest.fixture(scope="module")
def app(service, tmp_path_factory) -> MediaLibraryApp:
    return prepare(tmp_path_factory.mktemp("medialibrary") / "app", service.url, service.token)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("uploads") / "harbour.jpg"
    path.write_bytes(images.photo((4032, 3024)))  # grain, as a camera's: its widths are worth several files
    return path


def requests_to(service, route: str) -> int:
    metrics = requests.get(f"{service.url}/metrics", headers=service.headers(), timeout=10).text
    pattern = r'^imgopt_requests_total\{[^}]*route="' + re.escape(route) + r'"[^}]*\} (\S+)$'
    return int(sum(float(value) for value in re.findall(pattern, metrics, re.M)))


def counts(service) -> dict[str, int]:
    return {route: requests_to(service, route) for route in ("/variants", "/convert", "/info")}


def added(app: MediaLibraryApp, path, collection: str = "default") -> dict:
    return app.json(
        "(function () { $article = App\\Models\\ImgoptArticle::create(['title' => 'harbour']);"
        f" $media = $article->addMedia('{path}')->preservingOriginal()->toMediaCollection('{collection}');"
        " return ['id' => $media->id, 'generated' => $media->generated_conversions]; })()"
    )


def work_the_queue(app: MediaLibraryApp, env: dict[str, str] | None = None) -> list[int]:
    """Run queue:work --once until the queue is empty; each worker's peak RSS, KiB."""
    peaks = []
    while app.json("DB::table('jobs')->count()") > 0:
        peaks.append(app.queue_worker(env))
    assert app.json("DB::table('failed_jobs')->count()") == 0, app.json(
        "DB::table('failed_jobs')->pluck('exception')"
    )
    return peaks


def stored(app: MediaLibraryApp, url: str) -> Image.Image:
    path = app.root / "storage" / "app" / "public" / url.split("/storage/", 1)[1]
    return Image.open(io.BytesIO(path.read_bytes()))


def test_the_one_config_line_puts_medialibrary_on_imgopt(app):
    bound = app.json(
        "[config('media-library.image_driver'),"
        " get_class(app(Spatie\\MediaLibrary\\Conversions\\FileManipulator::class)),"
        " get_class(app(Spatie\\MediaLibrary\\ResponsiveImages\\ResponsiveImageGenerator::class)),"
        " get_class(app(Spatie\\MediaLibrary\\ResponsiveImages\\TinyPlaceholderGenerator\\"
        "TinyPlaceholderGenerator::class)),"
        " config('media-library.image_generators')[0]]"
    )
    assert bound == [
        "Imgopt\\Laravel\\MediaLibrary\\ImgoptDriver",
        "Imgopt\\Laravel\\MediaLibrary\\FileManipulator",
        "Imgopt\\Laravel\\MediaLibrary\\ResponsiveImageGenerator",
        "Imgopt\\Laravel\\MediaLibrary\\TinyPlaceholder",
        "Imgopt\\Laravel\\MediaLibrary\\ImageGenerator",
    ]
    gd = app.json(
        "get_class(app(Spatie\\MediaLibrary\\Conversions\\FileManipulator::class))",
        env={"IMAGE_DRIVER": "gd"},
    )
    assert gd == "Spatie\\MediaLibrary\\Conversions\\FileManipulator"


MANIPULATIONS = {
    "width": [["width", 800]],
    "width-no-upsize": [["width", 5000, ["preserveAspectRatio", "upsize"]]],
    "height": [["height", 300]],
    "resize": [["resize", 400, 400]],
    "resize-keeping-aspect": [["resize", 400, 400, ["preserveAspectRatio"]]],
    "fit-contain": [["fit", "contain", 400, 400]],
    "fit-max": [["fit", "max", 400, 400]],
    "fit-fill": [["fit", "fill", 400, 400]],
    "fit-fill-max": [["fit", "fill-max", 400, 400]],
    "fit-stretch": [["fit", "stretch", 400, 300]],
    "fit-crop": [["fit", "crop", 300, 300]],
    "fit-crop-wide": [["fit", "crop", 800, 200]],
    "crop-centre": [["crop", 500, 300]],
    "crop-corner": [["crop", 500, 300, "bottomRight"]],
    "manual-crop": [["manualCrop", 600, 400, 100, 50]],
    "manual-crop-centred": [["manualCrop", 600, 400]],
    "focal-crop": [["focalCrop", 600, 400, 3000, 800]],
    "focal-crop-and-resize": [["focalCropAndResize", 400, 400, 30, 70]],
    "resize-then-crop": [["width", 1200], ["crop", 400, 400]],
    "crop-then-resize": [["manualCrop", 1000, 1000, 200, 100], ["width", 300]],
    "fit-crop-then-width": [["fit", "crop", 600, 400], ["width", 300]],
}


def test_every_manipulation_imgopt_makes_gives_gds_size_and_picture(app, photo, tmp_path):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(MANIPULATIONS))
    script = FIXTURES / "manipulations.php"
    rows = json.loads(
        app.run("php", str(script), str(app.root), str(photo), str(cases), str(tmp_path)).stdout
    )
    assert len(rows) == len(MANIPULATIONS)
    for row in rows:
        assert row["gd"] == row["imgopt"] == row["predicted"], row
        ours, gds = (Image.open(row[f"{side}_file"]).convert("RGB") for side in ("imgopt", "gd"))
        difference = sum(ImageStat.Stat(ImageChops.difference(ours, gds)).mean) / 3
        assert difference < 6, (row["name"], difference)  # the same region; resamplers differ a little


def test_an_articles_conversions_go_through_the_queue_one_variants_request_a_phase(app, service, photo):
    before = counts(service)
    media = added(app, photo)
    assert media["generated"] == {"thumb": True}  # nonQueued: made as the upload was added
    after_add = counts(service)
    assert after_add["/variants"] - before["/variants"] == 1
    work_the_queue(app)
    done = counts(service)
    # The queued conversions in one request; the responsive widths (chosen from the converted file's bytes
    # by medialibrary's FileSizeOptimizedWidthCalculator) and the placeholder in a second.
    assert done["/variants"] - after_add["/variants"] == 2
    assert done["/convert"] == before["/convert"]
    facts = app.json(
        f"(function () {{ $m = Spatie\\MediaLibrary\\MediaCollections\\Models\\Media::find({media['id']});"
        " return ['generated' => $m->generated_conversions, 'urls' => collect(['thumb', 'preview', 'square',"
        " 'banner'])->mapWithKeys(fn ($c) => [$c => $m->getUrl($c)]), 'srcset' => $m->getSrcset('preview'),"
        " 'responsive' => $m->responsive_images['preview']['urls'],"
        " 'html' => (string) $m->img('preview')]; })()"
    )
    assert facts["generated"] == dict.fromkeys(CONVERSIONS, True)
    for name, (fmt, size) in CONVERSIONS.items():
        with stored(app, facts["urls"][name]) as image:
            assert (image.format, image.size) == (fmt, size), name
    widths = [int(re.search(r"___preview_(\d+)_(\d+)\.webp", name)[1]) for name in facts["responsive"]]
    assert widths[0] == 1200 and len(widths) >= 3 and widths == sorted(widths, reverse=True)
    for name in facts["responsive"]:
        width, height = map(int, re.search(r"_(\d+)_(\d+)\.webp$", name).groups())
        with stored(app, f"/storage/{media['id']}/responsive-images/{name}") as image:
            assert (image.format, image.size) == ("WEBP", (width, height))
        assert f"{name} {width}w" in facts["srcset"]
    svg = base64.b64decode(facts["srcset"].rsplit("data:image/svg+xml;base64,", 1)[1].split(" ")[0]).decode()
    tiny = base64.b64decode(re.search(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", svg)[1])
    with Image.open(io.BytesIO(tiny)) as placeholder:
        assert (placeholder.format, placeholder.width) == ("JPEG", 32)
    assert 'srcset="' in facts["html"] and "preview" in facts["html"]


def responsive_files(app: MediaLibraryApp, media_id: int, names: list[str]) -> list[tuple[int, int]]:
    """Each responsive file's (width, height), checked against the size its name declares."""
    sizes = []
    for name in names:
        width, height = map(int, re.search(r"_(\d+)_(\d+)\.\w+$", name).groups())
        with stored(app, f"/storage/{media_id}/responsive-images/{name}") as image:
            assert image.size == (width, height), name
        sizes.append((width, height))
    return sizes


def test_imgopts_width_calculator_takes_the_widths_the_service_chose_in_the_same_request(app, service, photo):
    media = added(app, photo, "gallery")
    after_add = counts(service)
    work_the_queue(app)
    # Still two requests for the queued phase: 'large' asks for widths=auto beside preview's fixed widths.
    assert counts(service)["/variants"] - after_add["/variants"] == 2
    urls = app.json(
        f"Spatie\\MediaLibrary\\MediaCollections\\Models\\Media::find({media['id']})"
        "->responsive_images['large']['urls']"
    )
    sizes = responsive_files(app, media["id"], urls)
    widths = [width for width, _height in sizes]
    assert widths[0] == 1600 and widths == sorted(widths, reverse=True) and 2 <= len(widths) <= 6
    assert all(abs(height - width * 3 / 4) <= 1 for width, height in sizes)

    # The original's responsive images (withResponsiveImages() on a collection) with the calculator bound
    # app-wide, as config/media-library.php's width_calculator binds it: one request, widths and placeholder.
    before = counts(service)
    code = (
        "(function () { app()->bind(Spatie\\MediaLibrary\\ResponsiveImages\\WidthCalculator\\"
        "WidthCalculator::class, Imgopt\\Laravel\\MediaLibrary\\ImgoptWidthCalculator::class);"
        f" $media = Spatie\\MediaLibrary\\MediaCollections\\Models\\Media::find({media['id']});"
        " app(Spatie\\MediaLibrary\\ResponsiveImages\\ResponsiveImageGenerator::class)"
        "->generateResponsiveImages($media);"
        " return $media->fresh()->responsive_images['media_library_original']['urls']; })()"
    )
    original = responsive_files(app, media["id"], app.json(code))
    assert counts(service)["/variants"] - before["/variants"] == 1
    # As medialibrary's own calculator, the widest is the base image's own width.
    assert original[0][0] == 4032 and 2 <= len(original) <= 6


def test_regenerate_remakes_every_conversion_through_the_service(app, service, photo):
    media = added(app, photo)
    work_the_queue(app)
    before = counts(service)
    thumb = app.root / "storage" / "app" / "public" / str(media["id"]) / "conversions"
    for path in thumb.iterdir():
        path.unlink()
    app.artisan("media-library:regenerate", f"--ids={media['id']}", "--with-responsive-images", "--force")
    work_the_queue(app)
    assert sorted(path.suffix for path in thumb.iterdir()) == [".avif", ".jpg", ".webp", ".webp"]
    after = counts(service)
    assert after["/convert"] == before["/convert"]
    assert 1 <= after["/variants"] - before["/variants"] <= 4


def test_a_heic_upload_gets_its_conversions(app, tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    heic = tmp_path / "iphone.heic"
    Image.open(io.BytesIO(images.scene((2016, 1512)))).save(heic, "HEIF", quality=80)
    media = added(app, heic)
    work_the_queue(app)
    generated = app.json(
        f"Spatie\\MediaLibrary\\MediaCollections\\Models\\Media::find({media['id']})->generated_conversions"
    )
    assert generated == dict.fromkeys(CONVERSIONS, True)


def test_what_imgopt_cannot_make_fails_naming_it_unless_a_fallback_makes_it(app, photo, tmp_path):
    code = (
        "(function () { try { Spatie\\Image\\Image::useImageDriver(config('media-library.image_driver'))"
        f"->loadFile('{photo}')->width(300)->watermark('{photo}', width: 50)->save('{tmp_path}/marked.jpg');"
        " return 'saved'; }"
        " catch (Throwable $e) { return get_class($e).': '.$e->getMessage(); } })()"
    )
    failed = app.json(code)
    unsupported = "Imgopt\\Laravel\\Exceptions\\UnsupportedManipulation"
    assert failed.startswith(f"{unsupported}: imgopt cannot make watermark")
    assert app.json(code, env={"IMGOPT_MEDIA_LIBRARY_FALLBACK": "gd"}) == "saved"
    with Image.open(tmp_path / "marked.jpg") as image:
        assert image.size == (300, 225)
