"""Service settings: every setting declared once, with its environment variable, default and meaning.

Settings are read once at start-up (``Settings.from_env``) into a frozen object; nothing reads the
environment at import time or while serving a request.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from imgopt.imaging.options import TARGET_RANGE
from imgopt.imaging.settings import PipelineSettings

AVIF_CODECS = ("aom", "svt", "rav1e")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw.strip())
        if value < low or (high is not None and value > high):
            upper = "" if high is None else f"..{high}"
            msg = f"must be an integer in {low}{upper or '..'}"
            raise ValueError(msg)
        return value

    return parse


def _number_in(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw.strip())
        if not low <= value <= high:  # NaN fails too
            msg = f"must be a number from {low:g} to {high:g}"
            raise ValueError(msg)
        return value

    return parse


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            msg = f"must be one of {', '.join(choices)}"
            raise ValueError(msg)
        return value

    return parse


def _probe_port(raw: str) -> int | None:
    """A port, ``auto`` (0: whichever port is free, said at start) or 0 (None: no probe responder)."""
    value = raw.strip().lower()
    if value == "auto":
        return 0
    port = _int_in(0, 65535)(value)
    return port or None


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    msg = "must be true or false"
    raise ValueError(msg)


# API_TOKEN may list this many tokens, comma-separated, so a token can be rotated without a 401 window.
MAX_TOKENS = 4


def _token(raw: str) -> str:
    value = raw.strip()
    if not value:
        msg = "is required: set it to a long random string (make run generates one in .env)"
        raise ValueError(msg)
    tokens = split_tokens(value)
    if len(tokens) > MAX_TOKENS or not all(tokens):
        msg = f"must be one token, or up to {MAX_TOKENS} comma-separated tokens with none empty"
        raise ValueError(msg)
    return value


def split_tokens(value: str) -> tuple[str, ...]:
    """The tokens an API_TOKEN value lists (one, or several separated by commas)."""
    return tuple(token.strip() for token in value.split(","))


def _text(raw: str) -> str:
    return raw.strip()


def _setting(
    env: str, default: Any, parse: Callable[[str], Any], help: str, *, internal: bool = False
) -> Any:
    return field(default=default, metadata={"env": env, "parse": parse, "help": help, "internal": internal})


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told from its environment."""

    api_token: str = field(
        default="",
        repr=False,
        metadata={
            "env": "API_TOKEN",
            "parse": _token,
            "help": "bearer token callers send; the service refuses to start without it. During a "
            "rotation, up to 4 tokens, comma-separated: any is accepted "
            "([operations](operations.md#rotating-the-token))",
        },
    )
    host: str = _setting(
        "HOST",
        "0.0.0.0",
        _text,
        "address gunicorn listens on: every interface in the image and compose files; make run's .env says "
        "127.0.0.1, this machine only",
    )
    port: int = _setting("PORT", 3000, _int_in(1, 65535), "port of the API")
    health_port: int | None = _setting(
        "HEALTH_PORT",
        3001,
        _probe_port,
        "port of the probe responder in the gunicorn master, which answers `GET /health` even while every "
        "worker is busy; `auto`: any free port, said at start (make run's .env: it never collides with "
        "another dev server); `0`: off",
    )
    web_concurrency: int = _setting(
        "WEB_CONCURRENCY", 0, _int_in(0, 64), "gunicorn sync workers; `0`: one per CPU core"
    )
    rendition_threads: int = _setting(
        "RENDITION_THREADS",
        0,
        _int_in(0, 64),
        "most threads one request uses, only on cores no other request is using right now (a count the "
        "workers share); `0`: the core count, `1`: one thread per request "
        "([performance](performance.md#idle-cores))",
    )
    max_upload_mb: int = _setting(
        "MAX_UPLOAD_MB",
        40,
        _int_in(1, 200),
        "largest request body in MiB (larger: 413); camera originals (a 45 MP JPEG is 20-30 MB) fit",
    )
    max_source_pixels: int = _setting(
        "MAX_SOURCE_PIXELS",
        50_000_000,
        _int_in(1),
        "largest source width x height (x frames), checked from the header before decoding (larger: 422)",
    )
    max_decode_mb: int = _setting(
        "MAX_DECODE_MB",
        384,
        _int_in(16, 16384),
        "largest pixel memory one conversion may need, estimated from the header (more: 422); JPEG counts "
        "at its reduced decode size",
    )
    max_frames: int = _setting(
        "MAX_FRAMES", 300, _int_in(1, 100_000), "most frames in an animation (more: 422 `too_many_frames`)"
    )
    max_variants: int = _setting(
        "MAX_VARIANTS",
        48,
        _int_in(1, 64),
        "most renditions one `POST /variants` may ask for (more: 400 `too_many_variants`)",
    )
    max_dimension: int = _setting(
        "MAX_DIMENSION",
        4096,
        _int_in(1, 16383),
        "largest `width` or `height` a caller may ask for (larger: 400)",
    )
    default_quality: int = _setting(
        "DEFAULT_QUALITY", 80, _int_in(1, 100), "encoder quality when the caller sends none"
    )
    auto_quality_target: float = _setting(
        "AUTO_QUALITY_TARGET",
        75.0,
        _number_in(*TARGET_RANGE),
        "SSIMULACRA2 score `quality=auto` aims for, 50-95 (70 high quality, 80 very high, 90 visually "
        "lossless); a request's `target` overrides it "
        "([fidelity](fidelity.md#qualityauto-the-metric-the-search-what-it-chose))",
    )
    webp_method: int = _setting("WEBP_METHOD", 4, _int_in(0, 6), "libwebp effort, 0 (fast) to 6 (small)")
    avif_codec: str = _setting(
        "AVIF_CODEC",
        "aom",
        _one_of(*AVIF_CODECS),
        "AVIF encoder: `aom`, `svt` or `rav1e` ([performance](performance.md#avif-defaults))",
    )
    avif_speed: int = _setting("AVIF_SPEED", 9, _int_in(0, 10), "AVIF encoder speed, 0 (slow) to 10 (fast)")
    max_requests: int = _setting(
        "MAX_REQUESTS",
        1000,
        _int_in(0),
        "a worker is recycled after this many requests (about 10% jitter added); `0`: never",
    )
    timeout: int = _setting(
        "TIMEOUT",
        60,
        _int_in(5, 3600),
        "gunicorn worker timeout in seconds; encodes estimated to take over half of it are refused (422)",
    )
    header_read_timeout: int = _setting(
        "HEADER_READ_TIMEOUT",
        5,
        _int_in(1, 600),
        "the request line and headers must arrive within this many seconds of connecting, however slowly "
        "they trickle; else 408 and the worker is free",
    )
    body_read_timeout: int = _setting(
        "BODY_READ_TIMEOUT",
        10,
        _int_in(1, 600),
        "an upload that sends nothing for this many seconds, or takes longer than `TIMEOUT/3` in all, gets "
        "408 and frees its worker",
    )
    send_timeout: int = _setting(
        "SEND_TIMEOUT",
        10,
        _int_in(1, 600),
        "a response must be written within this many seconds in all; a client that stops reading is cut off",
    )
    max_queue_wait: float = _setting(
        "MAX_QUEUE_WAIT",
        30.0,
        _number_in(0, 3600),
        "seconds an image request may wait for a worker (from its first byte's arrival, as the kernel "
        "stamps it) before it gets `503 overloaded`, its `Retry-After` the wait to expect; less for a caller "
        "that declares a shorter wait (`Prefer: wait=N`, "
        "[api](api.md#the-token-first-then-how-long-a-caller-waits-prefer-wait)) or has shown it gives up "
        "sooner; `0`: never refuse "
        "([operations](operations.md#slow-vanished-and-too-many-clients))",
    )
    trim_above_mb: int = _setting(
        "TRIM_ABOVE_MB",
        48,
        _int_in(0, 65536),
        "after a request, a worker this far above its starting RSS returns freed heap to the system "
        "(`malloc_trim`); `0`: never",
    )
    max_worker_rss_mb: int = _setting(
        "MAX_WORKER_RSS_MB",
        256,
        _int_in(0, 65536),
        "a worker still above this RSS after a request is restarted once it has answered; `0`: never",
    )
    metrics_public: bool = _setting(
        "METRICS_PUBLIC", False, _boolean, "serve `GET /metrics` without the bearer token"
    )
    playground: bool = _setting(
        "PLAYGROUND",
        False,
        _boolean,
        "serve the playground page on `GET /` (make run's .env turns it on; the image and compose leave it "
        "off)",
    )
    log_level: str = _setting(
        "LOG_LEVEL",
        "info",
        _one_of("debug", "info", "warning", "error", "critical"),
        "`debug`, `info`, `warning`, `error` or `critical`",
    )
    # Set by gunicorn.conf.py, not by people: where workers share their metric samples.
    prometheus_multiproc_dir: str = _setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "",
        _text,
        "set by gunicorn.conf.py for multi-worker metrics",
        internal=True,
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping; raise ConfigError naming a bad variable."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            env = spec.metadata["env"]
            raw = environ.get(env)
            if raw is None or (not raw.strip() and env != "API_TOKEN"):
                if env == "API_TOKEN":
                    msg = "API_TOKEN is required: set it to a long random string"
                    raise ConfigError(msg)
                continue
            try:
                values[spec.name] = spec.metadata["parse"](raw)
            except ValueError as exc:
                msg = f"{env}={raw!r} is invalid: {exc}"
                raise ConfigError(msg) from None
        return cls(**values)

    @property
    def api_tokens(self) -> tuple[str, ...]:
        """Every accepted bearer token, in the order API_TOKEN lists them."""
        return split_tokens(self.api_token)

    @property
    def workers(self) -> int:
        """Number of gunicorn workers: WEB_CONCURRENCY, or one per core."""
        return self.web_concurrency or _cpu_count()

    @property
    def max_upload_bytes(self) -> int:
        """MAX_UPLOAD_MB in bytes."""
        return self.max_upload_mb * 1024 * 1024

    def pipeline_settings(self) -> PipelineSettings:
        """The imaging layer's settings, derived from these (the pipeline never sees the environment)."""
        return PipelineSettings(
            max_source_pixels=self.max_source_pixels,
            max_frames=self.max_frames,
            max_decode_bytes=self.max_decode_mb * 1024 * 1024,
            # Half the worker timeout: the estimate is conservative, the margin covers a loaded machine.
            max_encode_seconds=self.timeout / 2,
            webp_method=self.webp_method,
            avif_codec=self.avif_codec,
            avif_speed=self.avif_speed,
            auto_quality_target=self.auto_quality_target,
            default_quality=self.default_quality,
            rendition_threads=self.rendition_threads or _cpu_count(),
        )


def describe_settings() -> list[tuple[str, Any, str]]:
    """(variable, default, meaning) for every setting people may set."""
    return [
        (f.metadata["env"], f.default, f.metadata["help"])
        for f in fields(Settings)
        if not f.metadata.get("internal")
    ]


CONFIGURATION_DOC_HEADER = """# Configuration

Environment variables, read once at start-up into a frozen `Settings` (`imgopt/config.py`, where each is
declared once with its default, its parser and this text). `.env` is loaded too, and a variable already set
in the environment wins over `.env`. A malformed value stops start-up with one line naming the variable.

This page is generated from those declarations by `make docs`; `tests/test_docs.py` fails when it differs.
`.env.example` lists every variable with a comment.
"""


def _shown(default: Any) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)


def configuration_reference() -> str:
    """docs/configuration.md: every setting people may set, with its default and meaning."""
    rows = [
        f"| `{variable}` | {'required' if variable == 'API_TOKEN' else f'`{_shown(default)}`'} | {meaning} |"
        for variable, default, meaning in describe_settings()
    ]
    return "\n".join(
        [CONFIGURATION_DOC_HEADER, "| variable | default | meaning |", "|---|---|---|", *rows, ""]
    )


def load_env_file(path: str | os.PathLike[str] = ".env") -> None:
    """Load a .env file into os.environ; variables already set win. Called at start-up only."""
    if Path(path).is_file():
        load_dotenv(path, override=False)
