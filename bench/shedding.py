"""Overload as callers really behave (part of `make stress`): shedding on against shedding off, in one run.

Each scenario runs on a fresh 2-worker server per side, one side at a time:

- flood: 32 clients sending 320 px thumbnails of a 12 MP JPEG with no backoff at all (a 503 is sent again
  at once), for 15 s. The trickle: one ordinary request (a 640x480 JPEG to 320 px) every 0.5 s meanwhile,
  its latency to an answer.
- laravel: 16 callers that behave like imgopt/laravel: its User-Agent, `Prefer: wait=60` (its 60 s
  timeout), 3 attempts, retries after 0.25, 1 and 3 s (at least the service's Retry-After) of what a retry
  can fix (a failed connection, 408, 503), each making the CMS set (320/768/1200/1920 px x WebP + AVIF) of
  the 12 MP photo with one /variants, for 45 s, twice per side (off, on, on, off), added up.
- unauthenticated: 8 such callers alone, then beside clients without a token (Guzzle's User-Agent and the
  package's, no token or a wrong one) that send a small /variants and close at once, over and over; both
  at the default. What the callers with the token got must not differ.
- impatient: 80 clients with a 4 s timeout, declaring nothing, that retry at once (and after Retry-After on
  a 503), the 12 MP JPEG (2.9 MB) to 1200 px WebP, for 30 s; goodput is answers delivered to a client still
  waiting (bench/overload.py). impatient-thumbnails: the same with a small upload (a 640x480 JPEG) to 320 px.

Capacity is 2 closed-loop clients on the same server. A "reset" is a connection that sent a request and got
no HTTP answer (reset, broken pipe, or closed without a response).

    .venv/bin/python -m bench.shedding [--only flood laravel unauthenticated impatient impatient-thumbnails]
        [--json PATH]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import socket
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from bench import overload
from bench.common import results_path, run_concurrently, write_results
from testing import images
from testing.http import multipart
from testing.server import ROOT, LiveServer, start_gunicorn, stop_gunicorn

# Shedding off, and the default; the env each side's server gets.
SIDES = {"off": {"MAX_QUEUE_WAIT": "0"}, "default": {}}

CMS_SET = json.dumps(
    [
        {"name": f"{fmt}-{width}", "format": fmt, "width": width}
        for width in (320, 768, 1200, 1920)
        for fmt in ("webp", "avif")
    ]
)
# imgopt/laravel's defaults: config('imgopt.timeout'), 'retries' (attempts) and 'backoff' (ms); and what it
# says of itself on every request.
LARAVEL_TIMEOUT = 60
LARAVEL_ATTEMPTS = 3
LARAVEL_BACKOFF = (0.25, 1.0, 3.0)
LARAVEL_HEADERS = {"User-Agent": "imgopt-laravel/bench", "Prefer": f"wait={LARAVEL_TIMEOUT}"}


class Answer:
    """One attempt: its status (None when no HTTP answer came), Retry-After, and how it ended."""

    def __init__(self, status: int | None, retry_after: float, outcome: str, seconds: float) -> None:
        self.status, self.retry_after, self.outcome, self.seconds = status, retry_after, outcome, seconds


def send(
    server: LiveServer,
    path: str,
    body: tuple[bytes, str],
    timeout: float,
    headers: dict[str, str] | None = None,
) -> Answer:
    """POST a prepared multipart body on a fresh connection, classifying how it ended."""
    host, port = server.url.removeprefix("http://").split(":")
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        sent = {**server.headers(), "Content-Type": body[1], **(headers or {})}
        connection.request("POST", path, body=body[0], headers=sent)
        response = connection.getresponse()
        response.read()
        retry_after = float(response.headers.get("Retry-After") or 0)
        return Answer(response.status, retry_after, str(response.status), time.monotonic() - started)
    except TimeoutError:
        return Answer(None, 0, "gave up", time.monotonic() - started)
    except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
        return Answer(None, 0, "reset", time.monotonic() - started)
    finally:
        connection.close()


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3)


def capacity(server: LiveServer, path: str, body: tuple[bytes, str], seconds: float) -> float:
    """Answers per second of 2 closed-loop clients: the service's capacity for this request."""
    done = Counter()
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            done[send(server, path, body, 120).outcome] += 1

    elapsed = run_concurrently([client] * 2)
    return done["200"] / elapsed


def flood(server: LiveServer, seconds: float = 15, clients: int = 32) -> dict:
    """Clients that send again at once, whatever they got; and a trickle of ordinary requests meanwhile."""
    thumbnail = multipart(overload.twelve_megapixel_jpeg(), {"width": "320"})
    ordinary = multipart(images.jpeg((640, 480)), {"width": "320"})
    rate = capacity(server, "/convert", thumbnail, 8)
    outcomes: Counter[str] = Counter()
    trickle: list[tuple[float, str]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            answer = send(server, "/convert", thumbnail, 120)
            with lock:
                outcomes[answer.outcome] += 1

    def trickler() -> None:
        while time.monotonic() < deadline:
            answer = send(server, "/convert", ordinary, 120)
            trickle.append((answer.seconds, answer.outcome))
            time.sleep(0.5)

    elapsed = run_concurrently([client] * clients + [trickler])
    served = outcomes["200"] / elapsed
    return {
        "capacity_per_second": round(rate, 2),
        "outcomes": dict(outcomes),
        "served_per_second": round(served, 2),
        "served_vs_capacity": round(served / rate, 3),
        "resets": outcomes["reset"],
        "trickle": {
            "requests": len(trickle),
            "outcomes": dict(Counter(outcome for _, outcome in trickle)),
            "p50_s": percentile([s for s, _ in trickle], 0.5),
            "p95_s": percentile([s for s, _ in trickle], 0.95),
        },
    }


def laravel(server: LiveServer, seconds: float = 45, callers: int = 16) -> dict:
    """Callers that say what imgopt/laravel says and retry as it does, each making CMS sets one after
    another."""
    body = multipart(overload.twelve_megapixel_jpeg(), {"variants": CMS_SET})
    attempts: Counter[str] = Counter()
    sets: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def caller() -> None:
        while time.monotonic() < deadline:
            started = time.monotonic()
            for attempt in range(1, LARAVEL_ATTEMPTS + 1):
                answer = send(server, "/variants", body, LARAVEL_TIMEOUT, LARAVEL_HEADERS)
                with lock:
                    attempts[answer.outcome] += 1
                retryable = answer.status in (408, 503) or answer.outcome == "reset"
                if answer.status == 200 or not retryable or attempt == LARAVEL_ATTEMPTS:
                    break
                time.sleep(max(LARAVEL_BACKOFF[attempt - 1], answer.retry_after))
            with lock:
                sets["made" if answer.status == 200 else f"failed ({answer.outcome})"] += 1
                if answer.status == 200:
                    latencies.append(time.monotonic() - started)

    elapsed = run_concurrently([caller] * callers)
    return laravel_summary(attempts, sets, latencies, elapsed)


def laravel_summary(
    attempts: Counter[str], sets: Counter[str], latencies: list[float], elapsed: float
) -> dict:
    """What the Laravel-like callers got, from their raw counts (kept, so that runs can be added up)."""
    requests_sent = sum(attempts.values())
    return {
        "attempts": dict(attempts),
        "sets": dict(sets),
        "sets_per_minute": round(sets["made"] * 60 / elapsed, 1),
        "failed_after_retries": sum(count for outcome, count in sets.items() if outcome != "made"),
        "share_503": round(attempts["503"] / max(1, requests_sent), 4),
        "resets": attempts["reset"],
        "set_p50_s": percentile(latencies, 0.5),
        "set_p95_s": percentile(latencies, 0.95),
        "elapsed_s": round(elapsed, 3),
        "set_seconds": [round(latency, 3) for latency in latencies],
    }


def added_up(runs: list[dict]) -> dict:
    """Several Laravel-like runs of one side as one."""
    summary = laravel_summary(
        sum((Counter(run["attempts"]) for run in runs), Counter()),
        sum((Counter(run["sets"]) for run in runs), Counter()),
        [latency for run in runs for latency in run["set_seconds"]],
        sum(run["elapsed_s"] for run in runs),
    )
    summary["server_errors_in_log"] = sum(run["server_errors_in_log"] for run in runs)
    summary["runs"] = len(runs)
    return summary


def unauthenticated(server: LiveServer, *, beside: bool, seconds: float = 30, callers: int = 8) -> dict:
    """The Laravel-like callers, alone or beside clients without a valid token that send a small /variants
    (as the package would, and as Guzzle does by default) and close at once; what the callers got, and the
    service's counts of both."""
    body = multipart(images.jpeg((64, 48)), {"variants": '[{"name": "a", "width": 32}]'})
    stop = threading.Event()
    host, port = server.url.removeprefix("http://").split(":")
    sent: Counter[str] = Counter()

    def hostile(user_agent: str, token: str | None) -> None:
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        head = (
            f"POST /variants HTTP/1.1\r\nHost: x\r\n{auth}User-Agent: {user_agent}\r\n"
            f"Content-Type: {body[1]}\r\nContent-Length: {len(body[0])}\r\n\r\n"
        ).encode()
        while not stop.is_set():
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                sock.sendall(head + body[0])
            sent[user_agent] += 1
            stop.wait(0.05)

    threads = [
        threading.Thread(target=hostile, args=(agent, token))
        for agent in ("GuzzleHttp/7", LARAVEL_HEADERS["User-Agent"])
        for token in (None, "not-the-token")
    ]
    if beside:
        for thread in threads:
            thread.start()
    try:
        result = laravel(server, seconds, callers)
    finally:
        stop.set()
        for thread in threads if beside else ():
            thread.join()
    metrics = requests.get(f"{server.url}/metrics", headers=server.headers(), timeout=10).text
    result["unauthenticated_sent"] = sum(sent.values())
    result["answered_401"] = _metric(metrics, r'^imgopt_requests_total\{[^}]*status="401"[^}]*\} (\S+)$')
    result["refused_caller_gives_up_sooner"] = _metric(
        metrics, r'^imgopt_refusals_total\{reason="caller_gives_up_sooner"\} (\S+)$'
    )
    return result


def _metric(text: str, pattern: str) -> float:
    return sum(float(value) for value in re.findall(pattern, text, re.M))


SCENARIOS = {
    "flood": flood,
    "laravel": laravel,
}
# Every scenario, in the order they run; "impatient" is bench/overload.py's burst.
ALL = ("flood", "laravel", "unauthenticated", "impatient", "impatient-thumbnails")


def run(tmp: Path, only: list[str], root: Path = ROOT, sides: dict[str, dict[str, str]] = SIDES) -> dict:
    """Every scenario asked for, shedding off then on, each on a fresh server; the impatient burst too.

    The Laravel-like callers, whose sets/min is compared between the sides with nothing to normalise it,
    run each side twice in the order off, on, on, off: the side that runs second came out 4% slower with
    both sides at the same settings (the git history of bench/results/shedding-laravel.json)."""
    report: dict = {}
    for name in only:
        report[name] = {}
        if name == "unauthenticated":
            report[name] = unauthenticated_side_by_side(tmp, root)
            continue
        order = list(sides) + list(reversed(sides)) if name == "laravel" else list(sides)
        runs: dict[str, list[dict]] = {side: [] for side in sides}
        for index, side in enumerate(order):
            env = sides[side]
            if name == "impatient":
                result = overload.overload(tmp, root, f"impatient-{side}", env, seconds=30, clients=80)
            elif name == "impatient-thumbnails":
                small = images.jpeg((640, 480))
                result = overload.overload(
                    tmp, root, f"thumbs-{side}", env, seconds=30, clients=80, body=small, width=320
                )
            else:
                server = start_gunicorn(
                    tmp / f"{name}-{side}-{index}", root, WEB_CONCURRENCY="2", LOG_LEVEL="warning", **env
                )
                try:
                    result = SCENARIOS[name](server)
                    result["server_errors_in_log"] = server.log().count('"level":"error"')
                finally:
                    stop_gunicorn(server)
            runs[side].append(result)
        for side, results in runs.items():
            report[name][side] = added_up(results) if len(results) > 1 else results[0]
            shown = {key: value for key, value in report[name][side].items() if key != "set_seconds"}
            print(name, side, json.dumps(shown), flush=True)
    return report


def unauthenticated_side_by_side(tmp: Path, root: Path) -> dict:
    """The callers with the token alone, then beside clients without one, each on a fresh server at the
    default, in one run."""
    report = {}
    for side in ("alone", "beside"):
        server = start_gunicorn(
            tmp / f"unauthenticated-{side}", root, WEB_CONCURRENCY="2", LOG_LEVEL="warning"
        )
        try:
            result = unauthenticated(server, beside=side == "beside")
            result["server_errors_in_log"] = server.log().count('"level":"error"')
        finally:
            stop_gunicorn(server)
        report[side] = result
        shown = {key: value for key, value in result.items() if key != "set_seconds"}
        print("unauthenticated", side, json.dumps(shown), flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="+", choices=ALL, default=list(ALL))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to run (default: this one)")
    parser.add_argument(
        "--off", default="MAX_QUEUE_WAIT=0", help="VARIABLE=VALUE that turns shedding off in that checkout"
    )
    args = parser.parse_args()
    variable, _, value = args.off.partition("=")
    sides = {"off": {variable: value}, "default": {}}
    with tempfile.TemporaryDirectory() as tmp:
        report = run(Path(tmp), args.only, args.root.resolve(), sides)
    write_results(args.json or results_path("shedding", args.only, ALL), report)


if __name__ == "__main__":
    main()
