"""The playground in a real browser: Debian's headless Chromium, driven through the DevTools protocol,
against a live gunicorn with PLAYGROUND=true. It enters the token, picks a generated photo, and checks
what the page shows against what the API answers. Screenshots go to docs/images/."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests

from testing import images
from testing.chromium import CHROMIUM, Browser
from testing.http import post
from testing.server import ROOT, start_gunicorn, stop_gunicorn

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
    ),
]

# The README's screenshots are remade only when asked (UPDATE_SCREENSHOTS=1), so make test leaves the tree
# clean; otherwise they go to the test's temporary folder, still proving the page renders at both widths.
SCREENSHOTS = ROOT / "docs" / "images" if os.environ.get("UPDATE_SCREENSHOTS") else None
# The CMS set the page starts with: 4 widths x AVIF and WebP.
CMS_WIDTHS = (320, 768, 1200, 1920)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    return SCREENSHOTS or tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def playground(tmp_path_factory):
    work = tmp_path_factory.mktemp("playground")
    server = start_gunicorn(work, PLAYGROUND="true")
    photo = work / "photo.jpg"
    photo.write_bytes(images.scene((2400, 1600)))
    browser = Browser()
    try:
        yield server, browser, photo
    finally:
        browser.close()
        stop_gunicorn(server)


def open_page(server, browser, width: int, height: int, *, mobile: bool = False):
    page = browser.page()
    page.set_viewport(width, height, mobile=mobile)
    page.navigate(server.url + "/")
    page.evaluate(
        f"document.querySelector('input[name=token]').value = {json.dumps(server.token)};"
        "document.querySelector('#auth button').click(); true"
    )
    return page


def shown_renditions(page) -> list[dict]:
    return page.evaluate(
        "[...document.querySelectorAll('.rendition')].map(card => ({name: card.dataset.name,"
        " bytes: Number(card.dataset.bytes), size: card.querySelector('dd.size').textContent}))"
    )


def wait_for_renditions(page, count: int, previous: str | None = None) -> None:
    condition = f"Number(document.querySelector('#summary').dataset.count) === {count}"
    if previous is not None:
        condition += f" && document.querySelector('#summary').textContent !== {json.dumps(previous)}"
    page.wait_for(condition, timeout=60)


def test_the_page_makes_the_cms_set_and_shows_the_bytes_the_api_returns(playground, screenshots):
    server, browser, photo = playground
    started = time.monotonic()
    page = open_page(server, browser, 1400, 1000)
    page.set_file("input[name=file]", photo)
    wait_for_renditions(page, len(CMS_WIDTHS) * 2)
    shown = shown_renditions(page)
    assert [item["name"] for item in shown] == [f"{fmt}-{w}" for w in CMS_WIDTHS for fmt in ("avif", "webp")]
    # The same fields straight to the API: the same renditions, the same sizes; bytes equal for WebP and
    # within 1% for AVIF (aom's encodes differ slightly between processes).
    variants = [
        {"name": f"{fmt}-{w}", "format": fmt, "width": w, "quality": 80, "fit": "fill", "gravity": "center"}
        for w in CMS_WIDTHS
        for fmt in ("avif", "webp")
    ]
    answer = post(server, "/variants", photo.read_bytes(), variants=variants).json()["variants"]
    for card, rendition in zip(shown, answer, strict=True):
        assert card["size"] == f"{rendition['width']} x {rendition['height']}"
        if rendition["format"] == "webp":
            assert card["bytes"] == rendition["bytes"]
        else:
            assert abs(card["bytes"] - rendition["bytes"]) <= 0.01 * rendition["bytes"]
    facts = page.evaluate("document.querySelector('#facts').textContent")
    assert "2400 x 1600" in facts
    assert page.evaluate("document.querySelector('#ph-thumbhash').width") > 0
    assert page.wait_for("document.querySelector('#ph-datauri').naturalWidth") == 20  # the browser decoded it
    page.screenshot(screenshots / "playground-desktop.png")
    assert (screenshots / "playground-desktop.png").stat().st_size > 10_000
    print(f"desktop run: {time.monotonic() - started:.1f} s")


def test_widths_auto_shows_the_widths_the_service_chose_and_their_bytes(playground):
    server, browser, photo = playground
    page = open_page(server, browser, 1400, 1000)
    page.evaluate(
        "const f = document.querySelector('#fields').elements;"
        " f.widths.value = 'auto'; f.formats.value = 'webp'; true"
    )
    variants = [
        {
            "name": "webp",
            "format": "webp",
            "widths": "auto",
            "quality": 80,
            "fit": "fill",
            "gravity": "center",
        }
    ]
    answer = post(server, "/variants", photo.read_bytes(), variants=variants).json()["variants"]
    page.set_file("input[name=file]", photo)
    wait_for_renditions(page, len(answer))
    line = page.evaluate(
        "(() => { const li = document.querySelector('#chosen li');"
        " return {widths: li.dataset.widths, bytes: li.dataset.bytes, text: li.textContent,"
        " shown: !document.querySelector('#chosen').hidden}; })()"
    )
    assert line["shown"]
    assert line["widths"] == ",".join(str(item["width"]) for item in answer)
    assert line["bytes"] == ",".join(str(item["bytes"]) for item in answer)
    assert line["text"].startswith(f"webp: {len(answer)} widths chosen")
    assert [item["name"] for item in shown_renditions(page)] == [item["name"] for item in answer]


def test_a_click_on_the_source_sets_the_focus_and_moves_the_crop(playground):
    server, browser, photo = playground
    page = open_page(server, browser, 1400, 1000)
    page.evaluate(
        "const f = document.querySelector('#fields').elements; f.widths.value = '400';"
        "f.formats.value = 'webp'; f.height.value = '400'; f.fit.value = 'cover'; true"
    )
    page.set_file("input[name=file]", photo)
    wait_for_renditions(page, 1)
    before = page.evaluate("document.querySelector('#windows rect').getAttribute('x')")
    summary = page.evaluate("document.querySelector('#summary').textContent")
    box = page.evaluate(
        "(() => { const r = document.querySelector('#source-image').getBoundingClientRect();"
        " return [r.left, r.top, r.width, r.height]; })()"
    )
    page.click(box[0] + box[2] * 0.1, box[1] + box[3] * 0.5)  # near the left edge
    wait_for_renditions(page, 1, previous=summary)
    focus = page.evaluate("document.querySelector('#fields').elements.focus.value")
    after = page.evaluate("document.querySelector('#windows rect').getAttribute('x')")
    assert focus.startswith("0.1")
    assert float(after) < float(before), (before, after)
    assert float(after) == 0  # a square window of a 3:2 photo, focused near the left edge, sits against it


def test_an_error_from_the_api_is_shown_with_its_code(playground):
    server, browser, photo = playground
    page = open_page(server, browser, 1400, 1000)
    page.evaluate("document.querySelector('#fields').elements.quality.value = '0'; true")
    page.set_file("input[name=file]", photo)
    code = page.wait_for("document.querySelector('#error').dataset.code", timeout=60)
    assert code == "invalid_quality"
    assert "quality must be" in page.evaluate("document.querySelector('#error').textContent")


def test_a_wrong_token_is_shown_as_unauthorized(playground):
    server, browser, photo = playground
    page = browser.page()
    page.navigate(server.url + "/")
    page.evaluate(
        "sessionStorage.clear(); document.querySelector('input[name=token]').value = 'wrong';"
        "document.querySelector('#auth button').click(); true"
    )
    page.set_file("input[name=file]", photo)
    assert page.wait_for("document.querySelector('#error').dataset.code", timeout=60) == "unauthorized"
    assert requests.get(server.url + "/", timeout=5).status_code == 200


def test_a_token_pasted_into_the_field_is_used_without_pressing_use(playground):
    server, browser, photo = playground
    page = browser.page()
    page.navigate(server.url + "/")
    page.evaluate(
        "sessionStorage.clear();"
        f"document.querySelector('input[name=token]').value = {json.dumps(server.token)};"
        "document.querySelector('#fields').elements.widths.value = '320'; true"
    )
    page.set_file("input[name=file]", photo)
    wait_for_renditions(page, 2)
    assert page.evaluate("document.querySelector('#error').hidden")


def test_the_link_make_run_prints_opens_the_page_holding_the_token(playground):
    server, browser, photo = playground
    page = browser.page()
    # The tab is shared with the other tests: forget their token, then open the link as a fresh tab would.
    page.navigate(server.url + "/")
    page.evaluate("sessionStorage.clear(); true")
    page.navigate("about:blank")
    page.navigate(f"{server.url}/#token={server.token}")
    # The page is loaded once its script has taken the token out of the address bar.
    page.wait_for("document.readyState === 'complete' && location.pathname === '/' && location.hash === ''")
    assert page.evaluate("document.querySelector('input[name=token]').value") == ""
    assert "from the link" in page.evaluate("document.querySelector('#auth-state').textContent")
    page.evaluate("document.querySelector('#fields').elements.widths.value = '320'; true")
    page.set_file("input[name=file]", photo)
    wait_for_renditions(page, 2)
    assert page.evaluate("document.querySelector('#error').hidden")


def test_the_page_works_at_a_phones_width(playground, screenshots):
    server, browser, photo = playground
    page = open_page(server, browser, 400, 860, mobile=True)
    page.set_file("input[name=file]", photo)
    wait_for_renditions(page, len(CMS_WIDTHS) * 2)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than a phone's screen"
    page.screenshot(screenshots / "playground-phone.png")
    assert (screenshots / "playground-phone.png").stat().st_size > 10_000
