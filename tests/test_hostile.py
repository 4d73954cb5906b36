"""Hostile uploads, bombs, fuzzing, dead workers, disconnects and security, against the real gunicorn."""

from __future__ import annotations

import io
import os
import signal
import socket
import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from testing import hostile, images
from testing.server import TOKEN, memory_of, start_gunicorn, stop_gunicorn

# Each test here talks to a real gunicorn (pytest -m 'not live' leaves them out).
pytestmark = pytest.mark.live

CORPUS = hostile.corpus()
SEEDS = hostile.seeds()
BOMBS = ["png-claims-60000x60000", "gif-huge-screen", "gif-10000-frames", "jpeg-claims-65000x65000"]


def assert_answer(response: requests.Response) -> None:
    """200 with an image, or a JSON 4xx: never a 5xx."""
    if response.status_code == 200:
        assert response.headers["Content-Type"].startswith("image/")
        return
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.json()["error"]["code"]


def post(server, data: bytes, **fields) -> requests.Response:
    return requests.post(
        f"{server.url}/convert",
        headers=server.headers(),
        files={"file": ("upload", data)},
        data=fields,
        timeout=20,
    )


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_upload_gets_200_or_json_4xx_quickly(live_server, name):
    assert_answer(post(live_server, CORPUS[name]))


def assert_set_answer(response: requests.Response) -> None:
    """200 with JSON facts, or a JSON 4xx: never a 5xx."""
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text[:300]
    body = response.json()
    assert "source" in body if response.status_code == 200 else body["error"]["code"]


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_upload_to_variants_and_info_gets_200_or_json_4xx(live_server, name):
    for route, fields in (
        ("/variants", {"variants": '[{"name": "a", "width": 64}, {"name": "b", "format": "avif"}]'}),
        ("/info", {}),
    ):
        response = requests.post(
            f"{live_server.url}{route}",
            headers=live_server.headers(),
            files={"file": ("upload", CORPUS[name])},
            data=fields,
            timeout=20,
        )
        assert_set_answer(response)


@pytest.mark.parametrize("name", BOMBS)
def test_bombs_are_refused_fast_without_memory_growth(live_server, name):
    pids = live_server.worker_pids()
    post(live_server, images.jpeg())  # warm both workers' code paths
    post(live_server, images.jpeg())
    before = {pid: memory_of(pid)["VmRSS"] for pid in pids}
    for _ in range(4):  # reach both workers
        started = time.monotonic()
        response = post(live_server, CORPUS[name])
        assert time.monotonic() - started < 1.0
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] in ("image_too_large", "too_many_frames")
    for pid, rss in before.items():
        assert memory_of(pid)["VmRSS"] - rss < 8, "a refused bomb must not grow the worker (MiB)"


@pytest.mark.parametrize(("fmt", "limit"), [("webp", "16383"), ("avif", "32768"), ("jpeg", "65535")])
def test_a_strip_too_long_for_the_output_format_is_refused(live_server, fmt, limit):
    response = post(live_server, hostile.strip(100000, 1), format=fmt)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "output_too_large"
    assert limit in response.json()["error"]["message"]


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_enlarged_strip_is_refused_up_front(live_server, fmt):
    response = post(live_server, hostile.strip(1, 100000), format=fmt, width=4096, enlarge="true")
    assert response.status_code == 422
    assert response.json()["error"]["code"] in ("image_too_large", "output_too_large")


@pytest.fixture(scope="module")
def fuzz_client():
    from imgopt import create_app
    from imgopt.config import Settings

    return create_app(Settings(api_token=TOKEN, log_level="critical")).test_client()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=12),
    cut=st.none() | st.floats(0.05, 1),
    fmt=st.sampled_from(["webp", "avif", "jpeg", "png"]),
)
def test_fuzzed_images_get_200_or_json_4xx(fuzz_client, seed, edits, cut, fmt):
    data = bytearray(SEEDS[seed])
    for where, value in edits:
        data[min(len(data) - 1, int(where * len(data)))] = value
    if cut is not None:
        data = data[: max(1, int(cut * len(data)))]
    response = fuzz_client.post(
        "/convert",
        data={"file": (io.BytesIO(bytes(data)), "x"), "format": fmt, "width": "24"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 or (400 <= response.status_code < 500 and response.get_json()["error"])


def multipart(body_file: bytes, boundary: str = "fuzzboundary") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="width"\r\n\r\n32\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + body_file
        + f"\r\n--{boundary}--\r\n".encode()
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=8)), min_size=1, max_size=6),
    content_type=st.sampled_from(
        ["multipart/form-data; boundary=fuzzboundary", "multipart/form-data",
         "multipart/form-data; boundary=", "multipart/form-data; boundary=other", "application/octet-stream"]
    ),
)  # fmt: skip
def test_fuzzed_multipart_bodies_get_200_or_json_4xx_over_http(live_server, edits, content_type):
    body = bytearray(multipart(images.jpeg((40, 30))))
    for where, insert in edits:
        position = int(where * len(body))
        body[position : position + len(insert)] = insert
    response = requests.post(
        f"{live_server.url}/convert",
        data=bytes(body),
        headers={**live_server.headers(), "Content-Type": content_type},
        timeout=20,
    )
    assert_answer(response)


def worker_holding(server, client: socket.socket) -> int | None:
    """The worker whose open files include the server end of ``client``'s connection, from /proc."""
    client_port = client.getsockname()[1]
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == client_port:  # remote end is our client
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in server.worker_pids():
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue
    return None


def test_killed_worker_is_replaced_and_only_its_requests_fail(tmp_path):
    # Deterministic: the victim is killed while provably holding one request (an upload that has not
    # finished arriving, found through /proc), while other clients keep converting on both workers.
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="2")
    try:
        noise = Image.merge("RGB", [Image.effect_noise((800, 600), 40 + 10 * band) for band in range(3)])
        data = images.encode(noise, "JPEG", quality=90)
        outcomes: list[str] = []
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():
                try:
                    outcomes.append(str(post(server, data, format="avif").status_code))
                except requests.ConnectionError:
                    outcomes.append("closed")

        host, port = server.url.removeprefix("http://").split(":")
        held = socket.create_connection((host, int(port)), timeout=30)
        held.sendall(
            f"POST /convert HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n".encode()
        )
        deadline = time.monotonic() + 10
        victim = None
        while victim is None and time.monotonic() < deadline:
            victim = worker_holding(server, held)
            time.sleep(0.02)
        assert victim is not None, "no worker took the held request"
        threads = [threading.Thread(target=client) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        os.kill(victim, signal.SIGKILL)
        try:
            held_outcome = held.recv(1024)  # the victim's connection closes with no answer
        except ConnectionResetError:
            held_outcome = b""
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join()
        assert held_outcome == b""
        assert set(outcomes) == {"200"}, outcomes  # nobody else lost a request
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(server.worker_pids()) < 2:
            time.sleep(0.1)
        pids = server.worker_pids()
        assert len(pids) == 2 and victim not in pids
        for _ in range(4):
            assert post(server, images.jpeg()).status_code == 200
    finally:
        stop_gunicorn(server)


def test_clients_dropping_mid_upload_leave_a_healthy_worker_and_no_temp_files(live_server):
    host, port = live_server.url.removeprefix("http://").split(":")
    log_before = live_server.log().count("\n")
    for _ in range(3):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            head = (
                f"POST /convert HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {live_server.token}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 5000000\r\n\r\n"
            )
            sock.sendall(
                head.encode() + b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n'
            )
            sock.sendall(os.urandom(200_000))
    time.sleep(0.5)
    for _ in range(4):
        assert post(live_server, images.jpeg()).status_code == 200
    new_lines = live_server.log().splitlines()[log_before:]
    assert sum("Traceback" in line for line in new_lines) == 0
    assert (
        len([line for line in new_lines if '"path":"/convert"' not in line or '"status":200' not in line])
        <= 3
    )
    assert list(live_server.tmp_dir.iterdir()) == []


def test_token_is_never_logged(live_server):
    near_miss = TOKEN[:-1] + "X"
    post(live_server, images.jpeg())
    requests.post(
        f"{live_server.url}/convert",
        headers={"Authorization": f"Bearer {near_miss}"},
        files={"file": ("a", images.jpeg())},
        timeout=10,
    )
    log = live_server.log()
    assert TOKEN not in log
    assert near_miss not in log


def test_filenames_never_become_paths(live_server, tmp_path):
    target = tmp_path / "pwned"
    response = requests.post(
        f"{live_server.url}/convert",
        headers=live_server.headers(),
        files={"file": (f"../../../../..{target}", images.jpeg())},
        timeout=10,
    )
    assert response.status_code == 200
    assert not target.exists()


def test_large_uploads_leave_no_temporary_files(live_server):
    data = images.encode(images.gradient((900, 900)), "PNG", compress_level=0)
    assert len(data) > 1_000_000  # Werkzeug's own parser would have spooled this to a temporary file
    assert post(live_server, data, width=100).status_code == 200
    assert list(live_server.tmp_dir.iterdir()) == []


def test_gunicorn_request_head_limits_are_set():
    from testing.server import ROOT

    config = (ROOT / "gunicorn.conf.py").read_text()
    for setting in ("limit_request_line", "limit_request_fields", "limit_request_field_size"):
        assert f"\n{setting} = " in config


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [("/health", {"X-Big": "a" * 9000}, 431), ("/health?" + "a" * 5000, {}, 414)],
    ids=["header-field", "request-line"],
)
def test_oversized_request_heads_are_refused_by_gunicorn(live_server, path, headers, status):
    response = requests.get(f"{live_server.url}{path}", headers=headers, timeout=5)
    assert response.status_code == status
    assert requests.get(f"{live_server.url}/health", timeout=5).status_code == 200
