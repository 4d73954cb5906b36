"""HTTP clients for the live service: one multipart builder and one POST helper for tests and benchmarks."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Mapping
from typing import Any

import requests

from testing.server import LiveServer


def multipart(data: bytes, fields: Mapping[str, str]) -> tuple[bytes, str]:
    """A multipart/form-data body with text ``fields`` and the image as ``file``; (body, Content-Type)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    body = b"".join(parts) + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_body(
    server: LiveServer,
    path: str,
    body: tuple[bytes, str],
    timeout: float = 300,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """POST a prepared multipart body on a fresh connection (with the token, and ``headers``); (status,
    payload)."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        sent = {**server.headers(), "Content-Type": body[1], **(headers or {})}
        connection.request("POST", path, body=body[0], headers=sent)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def post(
    server: LiveServer,
    route: str,
    data: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    session: requests.Session | None = None,
    timeout: float = 60,
    **fields: Any,
) -> requests.Response:
    """POST ``data`` as the ``file`` part with form ``fields`` (non-strings sent as JSON) to ``route``."""
    return (session or requests).post(
        f"{server.url}{route}",
        headers=server.headers() if headers is None else dict(headers),
        files={"file": ("upload.bin", data)},
        data={key: value if isinstance(value, str) else json.dumps(value) for key, value in fields.items()},
        timeout=timeout,
    )


def assert_json_error(response: requests.Response, status: int, code: str) -> str:
    """Check the service's JSON error shape, status and code; return the message."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["X-Request-Id"]
    return error["message"]
