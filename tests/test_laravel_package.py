"""clients/laravel in a real Laravel 8.83 application built from Debian's packages (testing/laravel_app.py),
against a live gunicorn: discovery, the published config, the model trait and its queued job on the
database queue, the Blade component served by the app's own server, imgopt:regenerate, Imgopt::fake() in
the app's own PHPUnit test, and headless Chromium choosing from the srcset."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import time
from html.parser import HTMLParser

import pytest
import requests
from PIL import Image

from testing import images
from testing.chromium import CHROMIUM, Browser
from testing.image_contract import validate
from testing.laravel_app import (
    COMPOSER,
    PACKAGE,
    PHP,
    PHPUNIT,
    WHY_NO_PHPUNIT,
    LaravelApp,
    build_app,
    missing_tools,
)
from testing.server import ROOT, start_gunicorn, stop_gunicorn

WHY_NOT = missing_tools()
pytestmark = [pytest.mark.live, pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")]

CMS_SET = [f"{fmt}-{width}" for width in (320, 768, 1200, 1920) for fmt in ("avif", "webp")]
SCREENSHOTS = ROOT / "docs" / "images" if os.environ.get("UPDATE_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A gunicorn of our own, so the /variants count in its /metrics is this module's alone."""
    server = start_gunicorn(tmp_path_factory.mktemp("laravel-service"))
    yield server
    stop_gunicorn(server)


@pytest.fixture(scope="module")
def app(service, tmp_path_factory) -> LaravelApp:
    started = time.monotonic()
    laravel = build_app(tmp_path_factory.mktemp("laravel") / "app", service.url, service.token)
    print(f"Laravel app built in {time.monotonic() - started:.1f} s")
    yield laravel
    laravel.stop()


def upload(app: LaravelApp, name: str, data: bytes) -> str:
    (app.root / "storage" / "app" / "uploads" / name).write_bytes(data)
    return name


def eval_json(app: LaravelApp, code: str):
    return json.loads(app.php(f"return json_encode({code});"))


def variants_requests(service) -> int:
    metrics = requests.get(f"{service.url}/metrics", headers=service.headers(), timeout=10).text
    pattern = r'^imgopt_requests_total\{[^}]*route="/variants"[^}]*\} (\S+)$'
    return int(sum(float(value) for value in re.findall(pattern, metrics, re.M)))


def assert_files_match(app: LaravelApp, manifest: dict) -> None:
    public = app.root / "storage" / "app" / "public"
    assert [item["name"] for item in manifest["renditions"]] == CMS_SET
    for item in manifest["renditions"]:
        data = (public / item["path"]).read_bytes()
        assert len(data) == item["bytes"], item["name"]
        with Image.open(io.BytesIO(data)) as image:
            assert image.format.lower() == item["format"], item["name"]
            assert image.size == (item["width"], item["height"]), item["name"]
        assert item["url"] == "/storage/" + item["path"]


def test_the_package_validates_and_every_php_file_lints():
    validated = subprocess.run(
        [COMPOSER, "validate", "--strict", "--no-check-publish", "--no-interaction"],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        env={**os.environ, "COMPOSER_HOME": "/tmp/imgopt-composer-home"},
        check=False,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    files = sorted(PACKAGE.rglob("*.php"))
    assert len(files) > 20
    for path in files:
        linted = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True, check=False)
        assert linted.returncode == 0, linted.stdout + linted.stderr


def run_package_suite(phpunit: list[str]) -> subprocess.CompletedProcess:
    """The package's own PHPUnit suite, run by the given phpunit command line."""
    return subprocess.run(
        [*phpunit, "--colors=never", "--do-not-cache-result"],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(PHPUNIT is None, reason=WHY_NO_PHPUNIT)
def test_the_packages_phpunit_tests_pass_with_http_fake():
    completed = run_package_suite([PHPUNIT])
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert re.search(r"OK \(\d+ tests", completed.stdout), completed.stdout


# Another PHPUnit to run the package's suite on as well, as a command line: Laravel 11 and 12 apps use
# PHPUnit 11, which wants static data providers and attributes (Debian trixie's phpunit, extracted, with
# php -d include_path=... in front). Without it the test says so and skips.
OTHER_PHPUNIT = os.environ.get("OTHER_PHPUNIT", "")


@pytest.mark.skipif(
    not OTHER_PHPUNIT, reason="OTHER_PHPUNIT is not set (a command that runs another PHPUnit)"
)
def test_the_packages_phpunit_tests_pass_on_another_phpunit_too():
    completed = run_package_suite(shlex.split(OTHER_PHPUNIT))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert re.search(r"^PHPUnit (\d+)\.", completed.stdout, re.M), completed.stdout
    assert re.search(r"OK(, but there were issues!)?\s*\n?Tests: \d+|OK \(\d+ tests", completed.stdout), (
        completed.stdout
    )


def test_composer_discovers_the_provider_and_the_alias_and_the_config_is_published(app):
    discovered = (app.root / "bootstrap" / "cache" / "packages.php").read_text()
    assert "Imgopt\\\\Laravel\\\\ImgoptServiceProvider" in discovered
    assert "'Imgopt' => 'Imgopt\\\\Laravel\\\\Facades\\\\Imgopt'" in discovered
    assert (app.root / "vendor" / "imgopt" / "laravel").resolve() == PACKAGE.resolve()
    assert (app.root / "config" / "imgopt.php").read_text() == (PACKAGE / "config" / "imgopt.php").read_text()
    assert "imgopt:regenerate" in app.artisan("list").stdout
    assert eval_json(app, "Imgopt::health()['status']") == "ok"


def test_saving_a_model_queues_the_job_and_the_worker_stores_the_whole_set(app, service):
    name = upload(app, "portrait.jpg", images.photo((1600, 1200), orientation=6))
    post_id = eval_json(app, f"Post::create(['title' => 'Portrait', 'cover_path' => '{name}'])->id")
    jobs = eval_json(app, "DB::table('jobs')->pluck('payload')->map(fn ($p) => json_decode($p)->displayName)")
    assert jobs == ["Imgopt\\Laravel\\Jobs\\GenerateRenditions"]

    worked = app.artisan("queue:work", "--once")
    assert "Processed" in worked.stdout, worked.stdout + worked.stderr
    assert eval_json(app, "DB::table('jobs')->count()") == 0

    manifest = eval_json(app, f"Post::find({post_id})->cover")
    assert manifest["set"] == "default"
    assert manifest["source"] == {
        "format": "jpeg",
        "width": 1200,
        "height": 1600,
        "frames": 1,
        "animated": False,
        "has_alpha": False,
    }
    assert manifest["placeholder"]["data_uri"].startswith("data:image/webp;base64,")
    assert manifest["request_id"].startswith("job-")
    assert_files_match(app, manifest)
    widths = {item["name"]: (item["width"], item["height"]) for item in manifest["renditions"]}
    assert widths["avif-320"] == (320, 427) and widths["webp-1920"] == (1200, 1600)

    # A new upload makes a new set under new paths, and the old files go.
    old = [app.root / "storage/app/public" / item["path"] for item in manifest["renditions"]]
    replacement = upload(app, "landscape.jpg", images.photo((1600, 1200)))
    app.php(f"Post::find({post_id})->update(['cover_path' => '{replacement}']); return '';")
    app.artisan("queue:work", "--once")
    renewed = eval_json(app, f"Post::find({post_id})->cover")
    assert (renewed["source"]["width"], renewed["source"]["height"]) == (1600, 1200)
    assert_files_match(app, renewed)
    assert not any(path.exists() for path in old)
    # Saving without touching the upload queues nothing.
    app.php(f"Post::find({post_id})->update(['title' => 'Renamed']); return '';")
    assert eval_json(app, "DB::table('jobs')->count()") == 0


def test_a_corrupt_upload_fails_the_job_at_once_and_records_its_code(app):
    name = upload(app, "corrupt.jpg", images.jpeg((640, 480))[:700])
    post_id = eval_json(app, f"Post::create(['title' => 'Broken', 'cover_path' => '{name}'])->id")
    app.artisan("queue:work", "--once")
    post = eval_json(app, f"Post::find({post_id})->only('cover', 'cover_error')")
    assert post == {"cover": None, "cover_error": "undecodable_image"}
    assert eval_json(app, "DB::table('jobs')->count()") == 0, "a bad upload is not retried"
    assert eval_json(app, "DB::table('failed_jobs')->count()") == 1


def test_a_set_with_widths_auto_stores_what_the_service_chose_and_counts_as_complete(app):
    name = upload(app, "auto.jpg", images.photo((1600, 1200)))
    code = f"""
        config(['imgopt.sets.responsive' => [
            'widths' => 'auto', 'formats' => ['webp', 'avif'], 'max_images' => 4,
        ]]);
        $set = Imgopt::store(storage_path('app/uploads/{name}'), 'responsive', 'auto');
        return json_encode([
            'manifest' => $set->toArray(),
            'complete' => $set->isComplete(Imgopt::set('responsive')),
            'default_complete' => $set->isComplete(Imgopt::set('default')),
            'srcset' => $set->srcset('webp'),
        ]);
    """
    result = json.loads(app.php(code))
    renditions = result["manifest"]["renditions"]
    for fmt in ("webp", "avif"):
        widths = [item["width"] for item in renditions if item["format"] == fmt]
        assert [item["name"] for item in renditions if item["format"] == fmt] == [
            f"{fmt}-{w}" for w in widths
        ]
        assert 1 <= len(widths) <= 4 and widths == sorted(widths) and widths[-1] == 1600
    assert (result["complete"], result["default_complete"]) == (True, False)
    public = app.root / "storage" / "app" / "public"
    for item in renditions:
        with Image.open(public / item["path"]) as image:
            assert image.size == (item["width"], item["height"]), item["name"]
    webp = [item for item in renditions if item["format"] == "webp"]
    assert result["srcset"] == ", ".join(f"{item['url']} {item['width']}w" for item in webp)


class PictureParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[dict[str, str]] = []
        self.img: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "source":
            self.sources.append(dict(attrs))
        elif tag == "img":
            self.img = dict(attrs)


def hero(app: LaravelApp) -> int:
    """A landscape post with its set stored, for the page and the browser."""
    name = upload(app, "hero.jpg", images.scene((2400, 1600)))
    post_id = eval_json(app, f"Post::create(['title' => 'Hero', 'cover_path' => '{name}'])->id")
    app.artisan("queue:work", "--once")
    return post_id


@pytest.fixture(scope="module")
def hero_page(app):
    post_id = hero(app)
    url = app.serve()
    return f"{url}/posts/{post_id}"


def test_the_blade_page_serves_every_srcset_url_at_its_declared_width(hero_page):
    page = requests.get(hero_page, timeout=30)
    assert page.status_code == 200, page.text[:2000]
    parsed = PictureParser()
    parsed.feed(page.text)
    assert [source["type"] for source in parsed.sources] == ["image/avif", "image/webp"]
    img = parsed.img
    assert (img["width"], img["height"], img["loading"], img["decoding"], img["alt"]) == (
        "2400",
        "1600",
        "lazy",
        "async",
        "Hero",
    )
    assert img["style"].startswith("background-size:cover;background-image:url('data:image/webp;base64,")
    assert img["id"] == "cover"
    base = hero_page.split("/posts/")[0]
    candidates = [(source["type"], source["srcset"]) for source in parsed.sources] + [
        ("image/webp", img["srcset"])
    ]
    for media_type, srcset in candidates:
        entries = [entry.strip().rsplit(" ", 1) for entry in srcset.split(",")]
        assert [int(width[:-1]) for _, width in entries] == [320, 768, 1200, 1920]
        for url, width in entries:
            served = requests.get(base + url, timeout=30)
            assert served.status_code == 200, url
            with Image.open(io.BytesIO(served.content)) as image:
                assert "image/" + image.format.lower() == media_type, url
                assert f"{image.width}w" == width, url
    assert requests.get(base + img["src"], timeout=30).status_code == 200


def test_a_stored_set_as_the_image_contract_matches_its_schema_and_the_blade_page(app, hero_page):
    post_id = int(hero_page.rsplit("/", 1)[1])
    contract = eval_json(
        app,
        f"Imgopt\\Laravel\\View\\ImageContract::fromSet(Post::find({post_id})->cover, 'Hero',"
        " '(min-width: 1024px) 50vw, 100vw')",
    )
    validate(contract)
    page = PictureParser()
    page.feed(requests.get(hero_page, timeout=30).text)
    assert [(source["type"], source["srcset"]) for source in contract["sources"]] == [
        (source["type"], source["srcset"]) for source in page.sources
    ]
    assert (contract["src"], contract["width"], contract["height"]) == (page.img["src"], 2400, 1600)
    assert contract["placeholder"]["data_uri"].startswith("data:image/webp;base64,")
    assert re.fullmatch(r"#[0-9a-f]{6}", contract["placeholder"]["color"])


def test_eager_pictures_ask_for_high_priority_and_an_empty_set_renders_nothing(app, hero_page):
    post_id = hero_page.rsplit("/", 1)[1]
    # Blade::render arrived in Laravel 9; on 8 a view file does the same.
    # resources/views/eager.blade.php: an eager picture, then one with no set, between brackets.
    html = app.php(f"return view('eager', ['set' => Post::find({post_id})->cover])->render();")
    parsed = PictureParser()
    parsed.feed(html)
    assert (parsed.img["loading"], parsed.img["fetchpriority"], parsed.img["class"]) == (
        "eager",
        "high",
        "hero",
    )
    assert html.rstrip().endswith("[]")


def test_regenerate_reports_failures_by_code_and_only_missing_resumes(app, service):
    good = images.photo((800, 600))
    names = [upload(app, f"bulk-{index}.jpg", good) for index in range(19)]
    names.append(upload(app, "bulk-corrupt.jpg", good[:600]))
    rows = json.dumps([{"title": f"Bulk {index}", "cover_path": name} for index, name in enumerate(names)])
    # Photos, a second model with the trait, created without events: the queue stays empty and the command
    # makes every set.
    app.php(
        f"Photo::withoutEvents(fn () => array_map([Photo::class, 'create'], json_decode('{rows}', true)));"
    )
    assert eval_json(app, "Photo::count()") == 20
    assert eval_json(app, "DB::table('jobs')->count()") == 0

    before = variants_requests(service)
    first = app.artisan("imgopt:regenerate", "Photo", "--concurrency=4", check=False)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "20/20" in first.stdout + first.stderr, "a progress bar counts the 20 models"
    assert "Stored 19 sets; skipped 0 complete and 0 without a source; 1 failed." in first.stdout
    assert re.search(r"\|\s*undecodable_image\s*\|\s*1\s*\|", first.stdout), first.stdout
    assert variants_requests(service) - before == 20
    stored = eval_json(app, "Photo::whereNotNull('cover')->get()->map(fn ($p) => $p->cover->createdAt)")
    assert len(stored) == 19

    before = variants_requests(service)
    second = app.artisan("imgopt:regenerate", "Photo", "--only-missing", check=False)
    assert "Stored 0 sets; skipped 19 complete and 0 without a source; 1 failed." in second.stdout, (
        second.stdout
    )
    assert second.returncode == 1
    assert variants_requests(service) - before == 1, "only the failed one is sent again"

    upload(app, "bulk-corrupt.jpg", good)
    third = app.artisan("imgopt:regenerate", "App\\Models\\Photo", "--only-missing")
    assert "Stored 1 sets; skipped 19 complete" in third.stdout
    before = variants_requests(service)
    fourth = app.artisan("imgopt:regenerate", "Photo", "--only-missing")
    assert "Stored 0 sets; skipped 20 complete" in fourth.stdout
    assert variants_requests(service) == before, "a complete model costs no request"
    again = eval_json(
        app, "Photo::whereNotNull('cover')->orderBy('id')->get()->map(fn ($p) => $p->cover->createdAt)"
    )
    assert again[:19] == stored, "complete sets were left as they were"
    assert eval_json(app, "Photo::whereNotNull('cover_error')->count()") == 0


@pytest.mark.skipif(PHPUNIT is None, reason=WHY_NO_PHPUNIT)
def test_imgopt_fake_runs_the_apps_own_phpunit_test_without_the_service(app):
    upload(app, "hero.jpg", images.scene((2400, 1600)))
    # testing/laravel_skeleton/tests/ImgoptFakeTest.php, as an application's own test would use the fake.
    completed = app.run(
        PHPUNIT,
        "--colors=never",
        "--bootstrap",
        "bootstrap/autoload.php",
        "tests/ImgoptFakeTest.php",
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "OK (3 tests" in completed.stdout, completed.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)")
@pytest.mark.parametrize(("viewport", "chosen"), [(400, "avif-768.avif"), (1400, "avif-1920.avif")])
def test_chromium_picks_the_avif_the_viewport_needs_and_the_box_is_sized_before_the_image(
    hero_page, tmp_path, viewport, chosen
):
    browser = Browser()
    try:
        page = browser.page()
        page.set_viewport(viewport, 330 if viewport == 400 else 900)
        page.keep_events("Fetch.requestPaused")
        page.call("Fetch.enable", patterns=[{"urlPattern": "*/storage/*", "requestStage": "Request"}])
        page.call("Page.navigate", url=hero_page)
        page.wait_for("document.readyState !== 'loading'")
        deadline = time.monotonic() + 20
        paused = []
        while not paused and time.monotonic() < deadline:
            paused = page.take_events("Fetch.requestPaused")
            page.evaluate("1")
        assert [event["params"]["request"]["url"].rsplit("/", 1)[1] for event in paused] == [chosen]

        before = page.evaluate(
            "(() => { const img = document.querySelector('#cover'); const box = img.getBoundingClientRect();"
            " return {width: box.width, height: box.height, complete: img.complete && img.naturalWidth > 0,"
            " background: getComputedStyle(img).backgroundImage.slice(0, 27)}; })()"
        )
        # Layout rounds to 1/64 px.
        assert before == {
            "width": viewport,
            "height": pytest.approx(viewport * 1600 / 2400, abs=1 / 32),
            "complete": False,
            "background": 'url("data:image/webp;base64',
        }
        (SCREENSHOTS or tmp_path).mkdir(parents=True, exist_ok=True)
        if viewport == 400:
            page.screenshot((SCREENSHOTS or tmp_path) / "laravel-picture-placeholder.png")

        for event in paused:
            page.call("Fetch.continueRequest", requestId=event["params"]["requestId"])
        page.call("Fetch.disable")
        page.wait_for(
            "document.querySelector('#cover').complete && document.querySelector('#cover').naturalWidth > 0"
        )
        after = page.evaluate(
            "(() => { const img = document.querySelector('#cover'); const box = img.getBoundingClientRect();"
            " return {width: box.width, height: box.height, src: img.currentSrc.split('/').pop(),"
            " natural: img.naturalWidth}; })()"
        )
        # naturalWidth is density-corrected: a w descriptor's image fills the slot sizes= gave it.
        assert after == {
            "width": before["width"],
            "height": before["height"],
            "src": chosen,
            "natural": pytest.approx(viewport, abs=1),
        }
        # The 400 px pair goes in docs/laravel.md; the wide one only proves the page renders.
        shot = (
            SCREENSHOTS if viewport == 400 and SCREENSHOTS else tmp_path
        ) / f"laravel-picture-{viewport}.png"
        page.screenshot(shot)
        with Image.open(shot) as image:
            low, high = image.convert("L").getextrema()
            assert image.width == viewport and high - low > 40, (
                "the screenshot shows an image, not a blank page"
            )
    finally:
        browser.close()
