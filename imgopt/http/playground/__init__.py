"""The playground blueprint: GET / and its static files, for people running `make run` (PLAYGROUND=true).

A single page of plain HTML, CSS and JavaScript, served from the package (no CDN, no build step), that calls
the real API with the token the person types in; it is registered only when PLAYGROUND is true, so the
Docker image and compose files, which leave it off, have no such route.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, abort

bp = Blueprint("playground", __name__)

# The page's files and their media types; nothing else under the folder is served.
FILES = {
    "index.html": "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "placeholders.js": "text/javascript; charset=utf-8",
}
# The page never loads anything from elsewhere, and nothing may frame it.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _file(name: str) -> Response:
    data = resources.files(__name__).joinpath(name).read_bytes()
    response = Response(data, content_type=FILES[name])
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def page() -> Response:
    """The playground page."""
    return _file("index.html")


@bp.get("/playground/<name>")
def asset(name: str) -> Response:
    """One of the page's own files."""
    if name not in FILES or name == "index.html":
        abort(404)
    return _file(name)
