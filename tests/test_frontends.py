"""The image contract reaches the pages (issue 38): a Next.js app and an Astro site, built from npm, render
contracts that imgopt/laravel produced from sets a live imgopt made; headless Chromium checks, at two
viewport widths and two pixel ratios, that the browser takes the narrowest AVIF that covers the slot, that
nothing shifts, that the placeholder shows while the image is held back, and that the contract's page
downloads fewer image bytes than the original in a plain <img> and than next/image re-encoding the CMS's
1920 px WebP. The Astro site's own image is made by imgopt's image service, with no sharp installed.

Skipped, saying why, without Node, Chromium, PHP or the sites' packages (testing/frontends.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

from testing import images
from testing.chromium import Browser
from testing.frontends import (
    ASTRO,
    VIEWS,
    build_astro,
    build_cms,
    build_js_package,
    image_bytes,
    load_every_photo,
    missing,
    narrowest_covering,
    open_page,
    start_next,
)
from testing.server import start_gunicorn, stop_gunicorn

WHY_NOT = missing()
pytestmark = [pytest.mark.live, pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")]

# Six CMS photos: camera-like sizes, landscape and portrait, grain as a camera's.
SIZES = [(4032, 3024), (3000, 2000), (2400, 3200), (3264, 2448), (4000, 2250), (2048, 1536)]


def cms_photos() -> list[tuple[str, bytes]]:
    """Photos this test makes; FRONTEND_PHOTOS names a folder of JPEGs to measure real ones instead."""
    folder = os.environ.get("FRONTEND_PHOTOS")
    if folder:
        paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))[:6]
        return [(path.name.replace(" ", "-"), path.read_bytes()) for path in paths]
    return [(f"photo-{index}.jpg", images.photo(size)) for index, size in enumerate(SIZES)]


def conversions(service) -> int:
    metrics = requests.get(f"{service.url}/metrics", headers=service.headers(), timeout=10).text
    pattern = r'^imgopt_requests_total\{[^}]*route="/convert"[^}]*status="200"[^}]*\} (\S+)$'
    return int(sum(float(value) for value in re.findall(pattern, metrics, re.M)))


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    server = start_gunicorn(tmp_path_factory.mktemp("frontends-service"))
    yield server
    stop_gunicorn(server)


@pytest.fixture(scope="module")
def cms(service, tmp_path_factory):
    built = build_cms(tmp_path_factory.mktemp("cms") / "app", service, cms_photos())
    build_js_package()
    yield built
    built.app.stop()


@pytest.fixture(scope="module")
def next_site(cms, tmp_path_factory):
    site = start_next(cms, tmp_path_factory.mktemp("next"))
    yield site
    site.stop()


@pytest.fixture(scope="module")
def astro_site(cms, service, tmp_path_factory):
    before = conversions(service)
    site, built = build_astro(cms, service, tmp_path_factory.mktemp("astro"))
    yield site, built, conversions(service) - before
    site.stop()


def check_page(url: str, width: int, ratio: int) -> dict:
    browser = Browser()
    try:
        page = open_page(browser, url, width, ratio)
        photos = load_every_photo(page)
        cls = page.evaluate("window.__cls")
        _, urls = image_bytes(page)
        return {"photos": photos, "cls": cls, "urls": urls}
    finally:
        browser.close()


def assert_the_narrowest_avif_that_covers(result: dict, ratio: int) -> None:
    assert len(result["photos"]) == 6
    for photo in result["photos"]:
        assert photo["current"].endswith(".avif"), photo
        needed = photo["width"] * ratio
        assert photo["current"] == narrowest_covering(photo["avif"], needed), (photo, needed)


@pytest.mark.parametrize(("width", "ratio"), VIEWS)
def test_next_renders_the_contract_the_browser_takes_the_narrowest_avif_and_nothing_shifts(
    next_site, width, ratio
):
    result = check_page(f"{next_site.url}/contract", width, ratio)
    assert_the_narrowest_avif_that_covers(result, ratio)
    assert result["cls"] == 0
    assert not [url for url in result["urls"] if "/_next/image" in url]


@pytest.mark.parametrize(("width", "ratio"), VIEWS)
def test_astro_renders_the_contract_the_same(astro_site, width, ratio):
    site, _, _ = astro_site
    result = check_page(f"{site.url}/index.html", width, ratio)
    assert_the_narrowest_avif_that_covers(result, ratio)
    assert result["cls"] == 0


def test_the_placeholder_shows_while_the_image_is_held_back(next_site, cms, tmp_path):
    browser = Browser()
    try:
        page = browser.page()
        page.call(
            "Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=3, mobile=True
        )
        page.keep_events("Fetch.requestPaused")
        page.call("Fetch.enable", patterns=[{"urlPattern": "*.avif", "requestStage": "Request"}])
        page.call("Page.navigate", url=f"{next_site.url}/contract")
        page.wait_for("document.readyState !== 'loading'")
        deadline = time.monotonic() + 20
        paused = []
        while not paused and time.monotonic() < deadline:
            paused += page.take_events("Fetch.requestPaused")
            page.evaluate("1")
        assert paused, "the page asked for no AVIF"
        first = page.evaluate(
            "(() => { const img = document.querySelector('img.photo');"
            " const box = img.getBoundingClientRect(); const style = getComputedStyle(img);"
            " return {x: box.x + box.width / 2, y: box.y + box.height / 2,"
            " width: box.width, height: box.height, complete: img.complete && img.naturalWidth > 0,"
            " background: style.backgroundImage.slice(0, 27)}; })()"
        )
        assert first["complete"] is False
        assert first["background"] == 'url("data:image/webp;base64'
        contract = cms.photos[0]["contract"]
        assert first["height"] == pytest.approx(
            first["width"] * contract["height"] / contract["width"], abs=1
        )
        shot = tmp_path / "held.png"
        page.screenshot(shot)
        with Image.open(shot) as image:
            pixel = image.convert("RGB").getpixel((int(first["x"] * 3), int(first["y"] * 3)))
        colour = tuple(int(contract["placeholder"]["color"][i : i + 2], 16) for i in (1, 3, 5))
        # The tiny image's middle, blurred by scaling: near the image's mean colour, not the page's white.
        assert (
            pixel != (255, 255, 255) and sum(abs(a - b) for a, b in zip(pixel, colour, strict=True)) < 150
        ), (
            pixel,
            colour,
        )
        for event in paused:
            page.call("Fetch.continueRequest", requestId=event["params"]["requestId"])
        page.call("Fetch.disable")
        page.wait_for(
            "(() => { const img = document.querySelector('img.photo');"
            " return img.complete && img.naturalWidth > 0; })()"
        )
    finally:
        browser.close()


def test_the_astro_build_made_its_own_image_with_imgopt_and_no_sharp(astro_site):
    site, built, converted = astro_site
    missing_sharp = subprocess.run(
        ["node", "-e", "require.resolve('sharp')"], cwd=ASTRO, capture_output=True, text=True, check=False
    )
    assert missing_sharp.returncode != 0 and "Cannot find module 'sharp'" in missing_sharp.stderr
    assert converted >= 1, "the build sent no /convert"
    html = requests.get(f"{site.url}/index.html", timeout=10).text
    own = re.search(r'<img src="(/_astro/[^"]+\.avif)"[^>]*id="own"', html) or re.search(
        r'<img[^>]*id="own"[^>]*src="(/_astro/[^"]+\.avif)"', html
    )
    assert own, html[-2000:]
    data = requests.get(site.url + own[1], timeout=10).content
    assert data[4:12] == b"ftypavif"
    assert "generating optimized images" in built.stdout


def test_the_contracts_page_downloads_the_fewest_image_bytes(next_site, tmp_path):
    table = {}
    for width, ratio in [(390, 3), (1440, 1)]:
        for name in ("contract", "plain", "next-image"):
            browser = Browser()
            try:
                page = open_page(browser, f"{next_site.url}/{name}", width, ratio)
                load_every_photo(page)
                total, urls = image_bytes(page)
                assert len(urls) >= 6, urls
                table[f"{width}@{ratio}x {name}"] = total
                if name == "next-image":
                    assert all("/_next/image" in url for url in urls)
            finally:
                browser.close()
        row = {name: table[f"{width}@{ratio}x {name}"] for name in ("contract", "plain", "next-image")}
        assert row["contract"] < row["plain"] and row["contract"] < row["next-image"], row
    print(json.dumps(table, indent=2))
    results = os.environ.get("FRONTEND_RESULTS")
    if results:
        Path(results).write_text(json.dumps(table, indent=2))
