"""gunicorn settings for imgopt, derived from the same Settings the app reads (see imgopt/config.py).

Every value below comes from an environment variable documented in README.md and .env.example; change
the variable, not this file.
"""

import os
import shutil
import sys
import tempfile

# Workers share Prometheus samples through files in one directory; it must be set before anything imports
# prometheus_client (importing imgopt does), and it starts empty so no dead process's samples linger.
_metrics_dir = tempfile.mkdtemp(
    prefix="imgopt-metrics-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

from imgopt.config import ConfigError, Settings, load_env_file
from imgopt.http.runtime import package_version
from imgopt.server import cores
from imgopt.server.health_responder import HealthResponder, worker_report
from imgopt.server.logs import gunicorn_logconfig
from imgopt.server.memory import limit_malloc_arenas
from imgopt.server.metrics import mark_worker_dead
from imgopt.server.startup import local_link, taken_port
from imgopt.server.worker import WorkerSettings

# SVT-AV1 prints a banner on every encode unless told to keep quiet before the library loads.
os.environ.setdefault("SVT_LOG", "1")
# One worker per core: numpy's BLAS (quality=auto's blur) must not start a thread pool per worker as well.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# One malloc arena for the master and every worker, set before any thread starts: otherwise each thread a
# decoder or encoder starts gets an arena whose freed memory the worker keeps (docs/operations.md: after
# ten 16 MP HEIF conversions a worker held 196 MiB more than at start; with one arena and TRIM_ABOVE_MB,
# 11). Our hot paths are single-threaded, so nothing contends for it.
limit_malloc_arenas(1)

load_env_file()
try:
    settings = Settings.from_env(os.environ)
except ConfigError as error:
    raise SystemExit(f"imgopt: {error}") from None

# The application: wsgi.py loads .env and calls create_app() once.
# Which cores the workers are using right now, in shared memory made before any worker is forked: a request
# borrows the idle ones for its renditions (RENDITION_THREADS; imgopt/server/cores.py).
core_ledger = cores.CoreLedger.for_workers(settings.workers)
cores.install(core_ledger)

wsgi_app = "wsgi:app"

# Where to listen. HOST/PORT; 0.0.0.0:3000 inside a container, where the network is private.
bind = f"{settings.host}:{settings.port}"

# Pending connections the kernel queues while every worker is busy. Requests wait here, in order,
# until a worker is free; a caller only sees its own timeout, never a refusal, until this fills.
backlog = 2048

# Sync workers: one request per process at a time, which suits CPU-bound image work and keeps each
# conversion's memory in one place. Ours is gunicorn's sync worker that, on SIGTERM, also answers the
# connections already queued in the backlog before it exits (imgopt/server/worker.py), so a redeploy
# resets none.
# WEB_CONCURRENCY, default one per CPU core; more workers than cores only make every conversion slower.
worker_class = "imgopt.server.worker.DrainingSyncWorker"
workers = settings.workers

# A worker that does not report back within TIMEOUT seconds is killed and its caller sees a closed
# connection. Our limits keep the slowest valid conversion well inside it (docs/operations.md).
timeout = settings.timeout

# On SIGTERM, workers finish the request in hand and then answer what is queued, for up to this many
# seconds before being killed. The container's stop grace period must be longer (docker-compose.yml: 45 s).
graceful_timeout = 30

# Restart a worker after about MAX_REQUESTS requests (plus up to 10% jitter, so they do not all
# restart together). A second guard behind MAX_WORKER_RSS_MB (post_request below). No request is lost.
max_requests = settings.max_requests
max_requests_jitter = max(1, settings.max_requests // 10) if settings.max_requests else 0

# Import the app (Pillow, the codecs, Flask) once in the master; workers share those pages
# copy-on-write, which saves memory and makes a recycled worker ready at once.
preload_app = True

# Workers touch a file as their heartbeat; on Docker's overlay filesystem that can stall, in RAM it cannot.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Limits on the request head, well above what any real client sends: a request line of 4 KiB,
# 50 header fields of up to 8 KiB each. Anything larger is refused by gunicorn with a 400.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Logging: gunicorn's messages as JSON lines on stdout. The access log is the app's own JSON line per
# request (imgopt/server/logs.py), which knows the request id, formats and sizes; gunicorn's would repeat it.
loglevel = settings.log_level
accesslog = None
errorlog = "-"
logconfig_dict = gunicorn_logconfig(settings.log_level)

# gunicorn's runtime control socket (gunicornc) is not used: one fixed path per user would collide
# between instances on one machine, and nothing in our deployment talks to it.
control_socket_disable = True

# Keep the process title recognisable in ps and top.
proc_name = "imgopt"


# --- server hooks ---------------------------------------------------------------------------------------
# The probe responder (imgopt/server/health_responder.py) runs in the master on HEALTH_PORT, so health
# checks are answered even while every worker is busy converting. It is started once the master is ready.
health_responder = None

# `make run` sets this: once the service answers, print where to open the playground, the token in the
# link. Only there: a deployed service never prints its token.
local_run = os.environ.get("IMGOPT_LOCAL_RUN") == "1"


def on_starting(server):
    """Before anything binds: a port another process holds is one line naming its variable, not gunicorn's
    five seconds of retries or the probe responder's traceback."""
    problem = taken_port(settings.host, {"PORT": settings.port, "HEALTH_PORT": settings.health_port})
    if problem:
        raise SystemExit(f"imgopt: {problem}")


def when_ready(server):
    """Start the master's probe responder; in `make run`, say where to open the playground."""
    global health_responder  # noqa: PLW0603  (gunicorn hooks are plain module functions)
    if settings.health_port is not None:
        version = package_version()
        health_responder = HealthResponder(
            settings.host,
            settings.health_port,
            lambda: worker_report(server, settings.workers, settings.timeout, version),
        )
        health_responder.start()
        server.log.info("health responder listening on %s:%s", settings.host, health_responder.port)
    if local_run:
        link = local_link(
            settings.host, settings.port, playground=settings.playground, token=settings.api_tokens[0]
        )
        sys.stderr.write(f"\n  {link}\n\n")
        sys.stderr.flush()


def pre_fork(server, worker):
    """Give the worker about to be forked its row of the core ledger."""
    worker.core_row = core_ledger.assign()


def post_fork(server, worker):
    """Workers do not serve the probe: close the listening socket they inherited from the master. Then give
    the worker its settings, the one way it gets them (imgopt/server/worker.py: WorkerSettings), and its
    row of the core ledger."""
    if health_responder is not None:
        health_responder.close_in_child()
    core_ledger.join(worker.core_row, os.getpid())
    worker.configure(
        WorkerSettings(
            # A client socket that sends nothing for BODY_READ_TIMEOUT frees the worker; the head must be in
            # within HEADER_READ_TIMEOUT, the response out within SEND_TIMEOUT (imgopt/server/deadlines.py).
            client_timeout=settings.body_read_timeout,
            header_timeout=settings.header_read_timeout,
            send_timeout=settings.send_timeout,
            trim_above_mib=settings.trim_above_mb,
            max_rss_mib=settings.max_worker_rss_mb,
        )
    )


def post_worker_init(worker):
    """Remember the worker's RSS once it is ready: growth above it is what trimming gives back."""
    worker.record_start()


def pre_request(worker, req):
    """The request head is parsed: its deadline stops and the worker beats its heartbeat."""
    worker.head_received()


def post_request(worker, req, environ, resp):
    """After each response is sent: return freed heap when the worker has grown by TRIM_ABOVE_MB (a worker
    that goes idle gives back any growth anyway), and restart a worker still above MAX_WORKER_RSS_MB
    (uWSGI's reload-on-rss). The caller waits for neither."""
    worker.after_request()


def child_exit(server, worker):
    """A worker is gone, however it went: stop counting its live samples (its counters' totals are kept)
    and free its row of the core ledger, so cores it had borrowed are idle again."""
    mark_worker_dead(worker.pid, _metrics_dir)
    core_ledger.release(worker.core_row)


def on_exit(server):
    """The master is stopping: remove the metrics directory."""
    shutil.rmtree(_metrics_dir, ignore_errors=True)
