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
from testing.image_contract import validate
from testing.medialibrary_app import FIXTURES, MediaLibraryApp, missing_app, prepare
from testing.server import free_port, start_gunicorn, stop_gunicorn

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


def sent_bytes(service) -> float:
    """The request bytes the service has read, every route."""
    metrics = requests.get(f"{service.url}/metrics", headers=service.headers(), timeout=10).text
    pattern = r"^imgopt_request_bytes_total\{[^}]*\} (\S+)$"
    return sum(float(value) for value in re.findall(pattern, metrics, re.M))


def counts(service) -> dict[str, int]:
    return {route: requests_to(service, route) for route in ("/variants", "/convert", "/info")}


def added(app: MediaLibraryApp, path, collection: str = "default", env: dict[str, str] | None = None) -> dict:
    return app.json(
        "(function () { $article = App\\Models\\ImgoptArticle::create(['title' => 'harbour']);"
        f" $media = $article->addMedia('{path}')->preservingOriginal()->toMediaCollection('{collection}');"
        " return ['id' => $media->id, 'generated' => $media->generated_conversions]; })()",
        env=env,
    )


def media_facts(app: MediaLibraryApp, media_id: int) -> dict:
    return app.json(
        f"(function () {{ $m = Spatie\\MediaLibrary\\MediaCollections\\Models\\Media::find({media_id});"
        " return ['generated' => $m->generated_conversions, 'responsive' => collect($m->responsive_images)"
        "->map(fn ($r) => $r['urls'])]; })()"
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
    # The queued conversions, their responsive widths and the placeholder in one request: medialibrary's
    # FileSizeOptimizedWidthCalculator's widths are known before the converted file is, but for their count.
    assert done["/variants"] - after_add["/variants"] == 1
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
    # One request for the queued phase: 'large' asks for widths=auto beside preview's widths.
    assert counts(service)["/variants"] - after_add["/variants"] == 1
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
        f"->loadFile('{photo}')->sharpen(10)->width(300)->save('{tmp_path}/marked.jpg');"
        " return 'saved'; }"
        " catch (Throwable $e) { return get_class($e).': '.$e->getMessage(); } })()"
    )
    failed = app.json(code)
    unsupported = "Imgopt\\Laravel\\Exceptions\\UnsupportedManipulation"
    assert failed.startswith(f"{unsupported}: imgopt cannot make width after a pixel operation")
    assert app.json(code, env={"IMGOPT_MEDIA_LIBRARY_FALLBACK": "gd"}) == "saved"
    with Image.open(tmp_path / "marked.jpg") as image:
        assert image.size == (300, 225)


# spatie/image's pixel operations, each after a resize, as spatie/image's calls (enums by value).
OPERATIONS = {
    "sharpen": [["sharpen", 10]],
    "blur": [["blur", 2]],
    "greyscale": [["greyscale"]],
    "sepia": [["sepia"]],
    "brightness": [["brightness", 20]],
    "contrast": [["contrast", 15]],
    "gamma": [["gamma", 1.4]],
    "colorize": [["colorize", 20, 0, -20]],
    "pixelate": [["pixelate", 8]],
    "flip": [["flip", "horizontal"]],
    "orientation-90": [["orientation", 90]],
    "orientation-from-exif": [["orientation"]],
    "border-overlay": [["border", 12, "overlay", "ff0000"]],
    "border-expand": [["border", 12, "expand", "#204080"]],
    "border-shrink": [["border", 12, "shrink", "000000"]],
    "numbers-as-strings": [["width", "600"], ["brightness", "20"]],
    "watermark": [
        ["watermark", "LOGO", "bottom-right", 2, 2, "percent", 20, "percent", 0, "pixel", "contain", 60]
    ],
    "insert": [["insert", "LOGO", "top-left", 10, 20, 50]],
}


def mean_difference(first: str, second: str) -> float:
    with Image.open(first) as ours, Image.open(second) as gds:
        return sum(ImageStat.Stat(ImageChops.difference(ours.convert("RGB"), gds.convert("RGB"))).mean) / 3


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(lambda: images.photo((1600, 1200), orientation=6), id="camera-photo-exif-6"),
        pytest.param(lambda: images.scene((1800, 1200)), id="scene"),
        pytest.param(
            lambda: images.encode(images.textured((1200, 900), seed=3), "JPEG", quality=90), id="texture"
        ),
    ],
)
def test_every_pixel_operation_gives_gds_size_and_gds_pixels(app, tmp_path, source):
    image = tmp_path / "source.jpg"
    image.write_bytes(source())
    logo = tmp_path / "logo.png"
    logo.write_bytes(images.png((160, 60), "RGBA"))
    resized = [["width", 600]]
    cases = {"resized": resized} | {
        name: calls if calls[0][0] == "width" else [*resized, *calls] for name, calls in OPERATIONS.items()
    }
    (tmp_path / "cases.json").write_text(json.dumps(cases).replace('"LOGO"', json.dumps(str(logo))))
    script, listed = str(FIXTURES / "manipulations.php"), str(tmp_path / "cases.json")
    rows = json.loads(app.run("php", script, str(app.root), str(image), listed, str(tmp_path)).stdout)
    rows = {row["name"]: row for row in rows}
    # What the resamplers alone make differ (GD's bilinear, the service's Lanczos): each operation may add
    # no more than half a level per channel to that. Sharpening is GD's matrix exactly
    # (tests/test_operations.py) but sharpens that difference too: a miss of the half level on fine texture.
    baseline = mean_difference(rows["resized"]["imgopt_file"], rows["resized"]["gd_file"])
    for name, calls in OPERATIONS.items():
        row = rows[name]
        assert row["gd"] == row["imgopt"] == row["predicted"], row
        difference = mean_difference(row["imgopt_file"], row["gd_file"])
        # border shrink resamples once more, inside the operation: the resamplers' difference again.
        gain = 2.5 if calls[-1][0] == "sharpen" or calls[-1][1:3] == [12, "shrink"] else 1.0
        assert difference <= gain * baseline + 0.5, (name, difference, baseline)


def test_with_the_service_down_add_media_succeeds_and_everything_is_made_once_it_is_back(app, service, photo):
    down = {"IMGOPT_URL": f"http://127.0.0.1:{free_port()}"}
    media = added(app, photo, "photos", env=down)
    # The upload-time conversion could not be made: it went to the queue, with the others and the srcset.
    assert not media["generated"]
    assert app.json("DB::table('jobs')->count()") == 2
    # A worker while the service is still down: each job goes back to the queue to wait, none fails, and no
    # conversion asks on its own (no /convert).
    before = counts(service)
    app.queue_worker(down)
    app.queue_worker(down)
    assert app.json("DB::table('failed_jobs')->count()") == 0
    assert app.json("DB::table('jobs')->where('attempts', 1)->count()") == 2
    assert app.json("DB::table('jobs')->min('available_at') > time()")  # the backoff
    assert counts(service) == before
    app.php("DB::table('jobs')->update(['available_at' => time()]); return 0;")
    work_the_queue(app)
    facts = media_facts(app, media["id"])
    assert facts["generated"] == dict.fromkeys(CONVERSIONS, True)
    assert len(facts["responsive"]["preview"]) >= 3
    assert len(facts["responsive"]["media_library_original"]) >= 3


def test_a_heif_in_a_responsive_collection_gets_a_jpeg_srcset(app, tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    heic = tmp_path / "iphone.heic"
    Image.open(io.BytesIO(images.scene((2016, 1512)))).save(heic, "HEIF", quality=80)
    media = added(app, heic, "photos")
    work_the_queue(app)
    facts = media_facts(app, media["id"])
    assert facts["generated"] == dict.fromkeys(CONVERSIONS, True)
    original = facts["responsive"]["media_library_original"]
    assert len(original) >= 3 and all(name.endswith(".jpg") for name in original)
    for width, _height in responsive_files(app, media["id"], original):
        assert width <= 2016
    srcset = app.json(
        f"Spatie\\MediaLibrary\\MediaCollections\\Models\\Media::find({media['id']})->getSrcset()"
    )
    assert ".jpg 2016w" in srcset


def test_an_upload_over_the_services_limit_fails_before_its_row_or_goes_to_fallback(app, service, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(images.encode(images.textured((1400, 1000), seed=5), "PNG"))  # about 4 MB: no compression
    assert big.stat().st_size > 2 * 1024 * 1024
    limited = {"IMGOPT_MAX_UPLOAD_MB": "2"}
    rows = app.json("Spatie\\MediaLibrary\\MediaCollections\\Models\\Media::count()")
    refused = app.json(
        "(function () { try { App\\Models\\ImgoptArticle::create(['title' => 'big'])"
        f"->addMedia('{big}')->preservingOriginal()->toMediaCollection(); return 'added'; }}"
        " catch (Throwable $e) { return get_class($e).': '.$e->getMessage(); } })()",
        env=limited,
    )
    assert refused.startswith("Imgopt\\Laravel\\Exceptions\\ImgoptException: 'big.png' is "), refused
    assert "MAX_UPLOAD_MB" in refused
    assert app.json("Spatie\\MediaLibrary\\MediaCollections\\Models\\Media::count()") == rows

    before, sent_before = counts(service), sent_bytes(service)
    fallback = {**limited, "IMGOPT_MEDIA_LIBRARY_FALLBACK": "gd"}
    media = added(app, big, "photos", env=fallback)
    assert media["generated"] == {"thumb": True}
    work_the_queue(app, fallback)
    facts = media_facts(app, media["id"])
    assert facts["generated"] == dict.fromkeys(CONVERSIONS, True)
    assert len(facts["responsive"]["media_library_original"]) >= 2
    # GD made the conversions from the original: it was never sent (the service made the small preview's
    # responsive widths, from the preview's own file).
    after = counts(service)
    assert after["/variants"] == before["/variants"] and after["/info"] == before["/info"]
    assert sent_bytes(service) - sent_before < big.stat().st_size


def test_a_responsive_photo_costs_one_request_a_phase_each_sending_it_once(app, service, photo):
    before, sent_before = counts(service), sent_bytes(service)
    media = added(app, photo, "photos")
    after_add, sent_add = counts(service), sent_bytes(service)
    assert after_add["/variants"] - before["/variants"] == 1
    work_the_queue(app)
    after, sent = counts(service), sent_bytes(service)
    # The queued conversions, their srcset and the original's srcset, with every placeholder: one request.
    assert after["/variants"] - after_add["/variants"] == 1
    assert after["/convert"] == before["/convert"] and after["/info"] == before["/info"]
    size = photo.stat().st_size
    for uploaded in (sent_add - sent_before, sent - sent_add):
        assert size < uploaded < size + 64 * 1024  # the upload, once, and the form
    facts = media_facts(app, media["id"])
    assert facts["generated"] == dict.fromkeys(CONVERSIONS, True)
    assert len(facts["responsive"]["media_library_original"]) >= 8
    assert len(facts["responsive"]["preview"]) >= 3
    # The item as the image contract a headless front end renders: the preview's WebP srcset, the
    # original's (JPEG) srcset, each with medialibrary's placeholder.
    for conversions, mime in ((["preview"], "image/webp"), ("", "image/jpeg")):
        contract = app.json(
            "Imgopt\\Laravel\\View\\ImageContract::fromMedia(Spatie\\MediaLibrary\\MediaCollections"
            f"\\Models\\Media::find({media['id']}), {json.dumps(conversions)}, 'Harbour')"
        )
        validate(contract)
        assert [source["type"] for source in contract["sources"]] == [mime]
        assert contract["placeholder"]["data_uri"].startswith("data:image/svg+xml;base64,")
        srcset = contract["sources"][0]["srcset"]
        assert contract["width"] == max(int(width) for width in re.findall(r" (\d+)w", srcset))
        assert contract["src"].split("/")[-1] in srcset
    # The original's own job found its work done, sent nothing, and took its flag away.
    assert app.json(
        f"Spatie\\MediaLibrary\\MediaCollections\\Models\\Media::find({media['id']})->custom_properties"
    ) in ([], {})
