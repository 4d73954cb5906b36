"""The image contract on real front ends: a Next.js app and an Astro site (testing/frontends/, pinned
versions from npm) rendering contracts that imgopt/laravel produced from sets a live imgopt made, looked at
in headless Chromium. tests/test_frontends.py checks them; bench/frontends.py measures their bytes.

`.ci/run` installs each site's packages (`npm ci`, and the Astro site's without sharp); without them, or
without Node, PHP or Chromium, whatever needs them skips, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from testing.chromium import CHROMIUM, Browser, Page
from testing.laravel_app import LaravelApp, build_app, missing_tools
from testing.processes import spawn, stop_process
from testing.server import ROOT, free_port

SITES = ROOT / "testing" / "frontends"
NEXT = SITES / "next"
ASTRO = SITES / "astro"
JS_PACKAGE = ROOT / "clients" / "js"
NPX = shutil.which("npx")
SIZES = "(min-width: 920px) 420px, calc(100vw - 32px)"
# The CMS's set, as one serving a headless front end would write it in config/imgopt.php: the widths
# phones and desktops ask for (next/image's own device sizes, up to 1920), AVIF at 50 (about the
# SSIMULACRA2 of next/image's WebP at 75 in fewer bytes: bench/frontends.py) and WebP at 80 (the fallback,
# and the 1920 px file a Next.js starter passes to next/image).
SET = (
    "'widths' => [640, 750, 828, 1080, 1200, 1920],"
    " 'formats' => ['avif' => ['quality' => 50], 'webp' => ['quality' => 80]],"
    " 'defaults' => [], 'renditions' => [],"
)
PACKAGE_DEFAULT_SET = (
    "'widths' => [320, 768, 1200, 1920],\n            'formats' => ['avif', 'webp'],\n"
    "            'defaults' => ['quality' => 80],\n            'renditions' => [],"
)
# (viewport width, device pixel ratio): a phone and a desktop, each at both ratios.
VIEWS = [(390, 3), (390, 1), (1440, 1), (1440, 2)]


def missing() -> str | None:
    """Why the front ends cannot be checked here, or None."""
    if NPX is None or shutil.which("node") is None:
        return "node and npm are not installed"
    if CHROMIUM is None:
        return "chromium is not installed (.ci/run installs Debian's chromium)"
    if (why := missing_tools()) is not None:
        return why
    for site in (JS_PACKAGE, NEXT, ASTRO):
        if not (site / "node_modules").is_dir():
            where = site.relative_to(ROOT)
            return f"{where} has no node_modules (npm ci --prefix {where}; .ci/run does it)"
    return None


@dataclass
class Cms:
    """The Laravel app as a headless CMS: its stored sets, as contracts, and where it serves its files."""

    app: LaravelApp
    url: str
    photos: list[dict] = field(default_factory=list)

    def contracts_file(self, folder: Path) -> Path:
        path = folder / "contracts.json"
        path.write_text(json.dumps(self.photos))
        return path


def build_cms(root: Path, service, photos: list[tuple[str, bytes]]) -> Cms:
    """A Laravel app with imgopt/laravel: each photo stored as a post's cover (the default set, AVIF and
    WebP at 320-1920), its contract from ImageContract::fromSet, and the original published beside it."""
    app = build_app(root, service.url, service.token)
    config = app.root / "config" / "imgopt.php"
    published = config.read_text()
    assert PACKAGE_DEFAULT_SET in published, (
        "config/imgopt.php's default set changed: update testing/frontends.py"
    )
    config.write_text(published.replace(PACKAGE_DEFAULT_SET, SET))
    base = app.serve()
    cms = Cms(app, base)
    public = app.root / "storage" / "app" / "public" / "originals"
    public.mkdir(parents=True, exist_ok=True)
    for name, data in photos:
        (app.root / "storage" / "app" / "uploads" / name).write_bytes(data)
        (public / name).write_bytes(data)
        post = app.php(f"return Post::create(['title' => '{name}', 'cover_path' => '{name}'])->id;")
        app.artisan("queue:work", "--once")
        contract = json.loads(
            app.php(
                f"return json_encode(Imgopt\\Laravel\\View\\ImageContract::fromSet(Post::find({post})->cover,"
                f" 'Photo {name}', '{SIZES}'));"
            )
        )
        webp1920 = json.loads(app.php(f"return json_encode(Post::find({post})->cover->url('webp-1920'));"))
        cms.photos.append(
            {
                # The disk's URLs are relative (/storage/...); an API answers with absolute ones.
                "contract": absolute(contract, base),
                "original": f"{base}/storage/originals/{name}",
                "webp1920": base + webp1920,
            }
        )
    return cms


def absolute(contract: dict, base: str) -> dict:
    contract = json.loads(json.dumps(contract))
    contract["src"] = base + contract["src"]
    for source in contract["sources"]:
        source["srcset"] = ", ".join(base + candidate for candidate in source["srcset"].split(", "))
    return contract


def build_js_package() -> None:
    subprocess.run(["npm", "run", "build"], cwd=JS_PACKAGE, check=True, capture_output=True, timeout=300)


@dataclass
class Site:
    url: str
    process: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, 10)


def start_next(cms: Cms, folder: Path) -> Site:
    """next build, then next start with the contracts; the comparison page may fetch the CMS's files."""
    env = {
        **os.environ,
        "NEXT_TELEMETRY_DISABLED": "1",
        "CMS_ORIGIN": cms.url,
        "CONTRACTS": str(cms.contracts_file(folder)),
    }
    subprocess.run([NPX, "next", "build"], cwd=NEXT, env=env, check=True, capture_output=True, timeout=600)
    port = free_port()
    process = spawn(
        [NPX, "next", "start", "-p", str(port), "-H", "127.0.0.1"],
        cwd=NEXT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/contract")
    return Site(url, process)


def build_astro(cms: Cms, service, folder: Path) -> tuple[Site, subprocess.CompletedProcess]:
    """astro build with imgopt's image service (no sharp) into ``folder``, then a static server for it. The
    site's own image is src/assets/own.jpg (an 800x600 scene, committed)."""
    env = {
        **os.environ,
        "ASTRO_TELEMETRY_DISABLED": "1",
        "CONTRACTS": str(cms.contracts_file(folder)),
        "ASTRO_CACHE_DIR": str(folder / "cache"),
        "IMGOPT_URL": service.url,
        "IMGOPT_TOKEN": service.token,
    }
    built = subprocess.run(
        [NPX, "astro", "build", "--outDir", str(folder / "dist")],
        cwd=ASTRO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    port = free_port()
    process = spawn(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(folder / "dist"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/index.html")
    return Site(url, process), built


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


# Installed before any page script: the layout shifts, summed as the CLS metric sums them.
CLS_OBSERVER = (
    "window.__cls = 0; new PerformanceObserver((list) => { for (const entry of list.getEntries()) {"
    " if (!entry.hadRecentInput) window.__cls += entry.value; } })"
    ".observe({type: 'layout-shift', buffered: true});"
)

PHOTOS = (
    "[...document.querySelectorAll('img.photo')].map((img) => { const box = img.getBoundingClientRect();"
    " const avif = img.parentElement.querySelector('source[type=\"image/avif\"]');"
    " return {current: img.currentSrc, width: box.width, height: box.height,"
    " complete: img.complete && img.naturalWidth > 0,"
    " avif: avif ? avif.srcset : null, background: getComputedStyle(img).backgroundColor}; })"
)


def open_page(browser: Browser, url: str, width: int, ratio: int) -> Page:
    """A tab at this viewport and pixel ratio, with the CLS observer and the network watched."""
    page = browser.page()
    page.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=844 if width < 800 else 900,
        deviceScaleFactor=ratio,
        mobile=width < 800,
    )
    page.call("Page.addScriptToEvaluateOnNewDocument", source=CLS_OBSERVER)
    page.call("Network.enable")
    page.call("Network.setCacheDisabled", cacheDisabled=True)
    page.keep_events("Network.responseReceived", "Network.loadingFinished", "Network.requestWillBeSent")
    page.call("Page.navigate", url=url)
    page.wait_for("document.readyState === 'complete'")
    return page


def load_every_photo(page: Page) -> list[dict]:
    """Scroll to the bottom a screen at a time (lazy images load), then wait for every photo."""
    page.evaluate(
        "(async () => { for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {"
        " scrollTo(0, y); await new Promise((done) => setTimeout(done, 100)); } scrollTo(0, 0); })()"
    )
    page.wait_for(f"{PHOTOS}.every((photo) => photo.complete)", timeout=60)
    return page.evaluate(PHOTOS)


def image_bytes(page: Page) -> tuple[int, list[str]]:
    """The bytes of every image response the page received (as sent, with headers), and their URLs."""
    types = {
        event["params"]["requestId"]: event["params"]["response"]
        for event in page.take_events("Network.responseReceived")
    }
    total, urls = 0, []
    for event in page.take_events("Network.loadingFinished"):
        response = types.get(event["params"]["requestId"])
        if (
            response is not None
            and response["mimeType"].startswith("image/")
            and not response["url"].startswith("data:")
        ):
            total += int(event["params"]["encodedDataLength"])
            urls.append(response["url"])
    return total, urls


def narrowest_covering(srcset: str, needed: float) -> str:
    """What a browser should take from a w-descriptor srcset for a slot needing this many device pixels."""
    candidates = sorted(
        (int(item.rsplit(" ", 1)[1][:-1]), item.rsplit(" ", 1)[0]) for item in srcset.split(", ")
    )
    for width, url in candidates:
        if width >= needed:
            return url
    return candidates[-1][1]
