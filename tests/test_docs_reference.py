"""The reference pages cannot drift: the configuration page is what config.py declares, every link between
the docs lands on a heading that exists, and the README stays a page a newcomer finishes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imgopt.config import configuration_reference
from testing.server import ROOT

PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "clients" / "laravel" / "README.md",
]
README_MOST_WORDS = 900


def test_the_configuration_page_is_generated_from_the_settings():
    assert (ROOT / "docs" / "configuration.md").read_text() == configuration_reference(), (
        "docs/configuration.md differs from imgopt/config.py: run make docs"
    )


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The page's headings as anchors, and its explicit ones (<a id="...">)."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    headings = {slug(match) for match in re.findall(r"^#+ (.+)$", text, re.M)}
    return headings | set(re.findall(r'<a (?:id|name)="([^"]+)"', text))


def links(page: Path) -> list[tuple[str, str]]:
    """(target file, anchor) of every relative markdown link of the page."""
    found = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        found.append((path, anchor))
    return found


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_link_between_the_docs_lands_on_a_file_and_a_heading(page):
    for path, anchor in links(page):
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name} links to {path}, which does not exist"
        if anchor and target.suffix == ".md":
            assert anchor in anchors(target), f"{page.name} links to {path}#{anchor}: no such heading"


def test_the_readme_is_a_page_a_newcomer_finishes():
    words = len((ROOT / "README.md").read_text().split())
    assert words <= README_MOST_WORDS, f"README.md has {words} words; the reference belongs in docs/"
