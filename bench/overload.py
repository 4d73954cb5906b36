"""Slow, vanished and too many clients (part of `make stress`): how long each slow phase holds a worker, what
goodput a burst of impatient callers gets, and a worker's peak memory for the largest default upload.

- slow: two slow clients per phase against 2 workers (defaults: HEADER_READ_TIMEOUT 5, BODY_READ_TIMEOUT
  10, whole body TIMEOUT/3, SEND_TIMEOUT 10), and how long an ordinary request waits meanwhile.
- overload: the service's capacity (2 closed-loop clients, no queue), then a burst: 80 clients with a 4 s
  timeout that retry at once (after Retry-After on a 503), 12 MP JPEG -> 1200 px WebP, for 30 s. Goodput is
  answers delivered to a client still waiting, per second, against that capacity. bench/shedding.py runs it
  with shedding on and off, beside the other ways callers overload the service.
- upload: a worker's peak RSS (VmHWM) converting a 30 MB upload (MAX_UPLOAD_MB allows 40).

    .venv/bin/python -m bench.overload [--only slow overload upload] [--baseline CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from PIL import Image

from bench.common import results_path, run_concurrently, write_results
from testing import images
from testing.http import multipart, post
from testing.server import ROOT, LiveServer, memory_of, reset_peak, start_gunicorn, stop_gunicorn

PHOTO = Path(__file__).resolve().parent.parent.parent / "shared/corpus/photos/phone_4032x3024.jpg"


def twelve_megapixel_jpeg() -> bytes:
    """The corpus's 12 MP phone photo, or a generated one of the same size."""
    if PHOTO.is_file():
        return PHOTO.read_bytes()
    return images.photo((4032, 3024))


# --- slow clients -------------------------------------------------------------------------------------------


def _connect(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=120)


def _head(server: LiveServer, path: str, content_type: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> str:
    """Status and code of whatever comes back before the server closes, or how it ended."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except OSError as error:
        return f"connection {type(error).__name__}" if not received else "cut off mid-response"
    if not received:
        return "closed without an answer"
    head, _, body = received.partition(b"\r\n\r\n")
    status = head.split(b" ")[1].decode()
    try:
        return f"{status} {json.loads(body)['error']['code']}"
    except (ValueError, KeyError):
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            ),
            None,
        )
        if length is not None and len(body) < length:
            return f"{status}, cut off after {len(body)} of {length} bytes"
        return f"{status} ({len(body)} bytes)"


def _phase(server: LiveServer, behave) -> dict:
    """Two clients misbehaving as ``behave(sock)`` says, holding both workers; an ordinary request too."""
    results: list[tuple[float, str]] = []

    def client() -> None:
        started = time.monotonic()
        sock = _connect(server)
        try:
            behave(sock)
            outcome = _answer(sock)
        finally:
            sock.close()
        results.append((time.monotonic() - started, outcome))

    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    status = post(server, "/convert", images.jpeg((640, 480)), timeout=120, width="320").status_code
    ordinary = time.monotonic() - started
    for thread in threads:
        thread.join(timeout=120)
    return {
        "held_seconds": [round(held, 1) for held, _ in results],
        "got": sorted({outcome for _, outcome in results}),
        "ordinary_request_status": status,
        "ordinary_request_waited_seconds": round(ordinary, 1),
    }


def slow_clients(server: LiveServer) -> dict:
    """Each phase a slow client controls, with its bound and what it got."""
    small_body, small_type = multipart(images.jpeg((320, 240)), {"width": "100"})
    # Incompressible pixels as lossless PNG: a ~30 MB JSON answer, far more than the kernel's socket buffers
    # hold, so the worker really waits on the client that does not read it.
    noise = images.encode(Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3)), "PNG")
    variants = [{"name": f"v{i}", "format": "png", "width": 1600 - i} for i in range(4)]
    big_body, big_type = multipart(noise, {"variants": json.dumps(variants)})

    def silent(sock: socket.socket) -> None:
        pass

    def trickled_head(sock: socket.socket) -> None:
        sock.sendall(b"POST /convert HTTP/1.1\r\n")
        for line in range(30):
            try:
                sock.sendall(f"X-Line-{line}: {line}\r\n".encode())
            except OSError:
                return
            time.sleep(2)  # never silent for BODY_READ_TIMEOUT

    def stalled_body(sock: socket.socket) -> None:
        sock.sendall(_head(server, "/convert", small_type, len(small_body)) + small_body[:1000])

    def trickled_body(sock: socket.socket) -> None:
        sock.sendall(_head(server, "/convert", small_type, len(small_body)))
        for offset in range(len(small_body)):
            try:
                sock.sendall(small_body[offset : offset + 1])
            except OSError:
                return
            time.sleep(1)

    def unread_response(sock: socket.socket) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(_head(server, "/variants", big_type, len(big_body)) + big_body)
        time.sleep(40)  # reads nothing until long after SEND_TIMEOUT

    phases = {
        "sends nothing": silent,
        "head, a line every 2 s": trickled_head,
        "body stalls": stalled_body,
        "body, a byte a second": trickled_body,
        "does not read its response": unread_response,
    }
    report = {name: _phase(server, behave) for name, behave in phases.items()}
    report["worker_timeouts_in_log"] = server.log().count("WORKER TIMEOUT")
    return report


# --- overload -----------------------------------------------------------------------------------------------


def _closed_loop(
    server: LiveServer, clients: int, seconds: float, timeout: float, body: bytes, *, width: int = 1200
) -> dict:
    """``clients`` converting ``body`` to ``width`` one request after another for ``seconds``, each giving up
    after ``timeout`` and waiting out a 503's Retry-After (within the run); what was delivered within it."""
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    started_at = time.monotonic()
    deadline = started_at + seconds

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = post(server, "/convert", body, session=session, timeout=timeout, width=str(width))
                outcome = str(response.status_code)
            except requests.RequestException as error:
                response, outcome = (
                    None,
                    "gave up" if "timed out" in str(error).lower() else type(error).__name__,
                )
            with lock:
                # An answer after the run ends is not counted: the run is the same length for every side.
                if time.monotonic() <= deadline:
                    outcomes[outcome] += 1
                if response is not None:
                    latencies.append(time.monotonic() - started)
            if response is not None and response.status_code == 503:
                retry_after = float(response.headers.get("Retry-After", "1"))
                time.sleep(max(0.0, min(retry_after, deadline - time.monotonic())))

    run_concurrently([client] * clients)
    latencies.sort()
    return {
        "seconds": seconds,
        "outcomes": dict(outcomes),
        "delivered_per_second": round(outcomes["200"] / seconds, 2),
        "answer_p50_s": round(latencies[len(latencies) // 2], 2) if latencies else None,
        "answer_max_s": round(latencies[-1], 2) if latencies else None,
    }


def _conversions_in_log(server: LiveServer) -> Counter[str]:
    done: Counter[str] = Counter()
    for line in server.log().splitlines():
        if '"path":"/convert"' in line:
            entry = json.loads(line)
            done[str(entry["status"])] += 1
    return done


def overload(
    tmp: Path,
    root: Path,
    label: str,
    env: dict[str, str],
    *,
    seconds: float,
    clients: int,
    body: bytes | None = None,
    width: int = 1200,
) -> dict:
    """Capacity, then the burst of ``clients`` with a 4 s timeout converting ``body`` (the 12 MP photo) to
    ``width``, on a fresh 2-worker server from ``root``."""
    body = body if body is not None else twelve_megapixel_jpeg()
    server = start_gunicorn(tmp / label, root, WEB_CONCURRENCY="2", LOG_LEVEL="info", **env)
    try:
        post(server, "/convert", body, width=str(width))  # warm-up
        capacity = _closed_loop(server, 2, 15, 60, body, width=width)
        before = _conversions_in_log(server)
        burst = _closed_loop(server, clients, seconds, 4, body, width=width)
        time.sleep(6)  # let the queue empty, so every accepted request is in the log
        after = _conversions_in_log(server)
    finally:
        stop_gunicorn(server)
    made = {status: after[status] - before[status] for status in after}
    return {
        "label": label,
        "env": env,
        "capacity_per_second": capacity["delivered_per_second"],
        "burst": burst,
        "server_answers": made,
        "goodput_vs_capacity": round(burst["delivered_per_second"] / capacity["delivered_per_second"], 3),
        "conversions_delivered_share": round(burst["outcomes"].get("200", 0) / max(1, made.get("200", 0)), 3),
    }


# --- upload -------------------------------------------------------------------------------------------------


def upload_memory(tmp: Path, root: Path, label: str) -> dict:
    """Peak worker RSS converting a 30 MB upload (a 45 MP camera JPEG is 20-30 MB) to 1200 px WebP."""
    data = images.encode(Image.effect_noise((6000, 4500), 120).convert("RGB"), "JPEG", quality=97)
    server = start_gunicorn(
        tmp / label, root, WEB_CONCURRENCY="1", MAX_REQUESTS="0", MAX_UPLOAD_MB="40", LOG_LEVEL="warning"
    )
    try:
        pid = server.worker_pids()[0]
        post(server, "/convert", images.jpeg((64, 48)))
        time.sleep(0.5)
        rest = memory_of(pid)["VmRSS"]
        reset_peak(pid)
        status = post(server, "/convert", data, timeout=120, width="1200").status_code
        peak = memory_of(pid)["VmHWM"]
    finally:
        stop_gunicorn(server)
    return {
        "label": label,
        "upload_mib": round(len(data) / 2**20, 1),
        "status": status,
        "rss_at_rest_mib": round(rest, 1),
        "peak_mib": round(peak, 1),
        "peak_above_rest_mib": round(peak - rest, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="+", default=["slow", "overload", "upload"])
    parser.add_argument("--baseline", type=Path, help="a checkout to measure before (overload, upload)")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=80)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report: dict = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "slow" in args.only:
            server = start_gunicorn(tmp / "slow", WEB_CONCURRENCY="2", LOG_LEVEL="warning")
            try:
                report["slow"] = slow_clients(server)
            finally:
                stop_gunicorn(server)
            print(json.dumps(report["slow"], indent=1), flush=True)
        if "overload" in args.only:
            runs = []
            if args.baseline:
                runs.append(
                    overload(tmp, args.baseline, "before", {}, seconds=args.seconds, clients=args.clients)
                )
                print(json.dumps(runs[-1]), flush=True)
            runs.append(overload(tmp, ROOT, "now", {}, seconds=args.seconds, clients=args.clients))
            print(json.dumps(runs[-1]), flush=True)
            report["overload"] = runs
        if "upload" in args.only:
            runs = [upload_memory(tmp, ROOT, "now")]
            if args.baseline:
                runs.insert(0, upload_memory(tmp, args.baseline, "before"))
            report["upload"] = runs
            print(json.dumps(runs), flush=True)
    write_results(args.json or results_path("overload", args.only, ["slow", "overload", "upload"]), report)


if __name__ == "__main__":
    main()
