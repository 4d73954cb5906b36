"""Starting the service: a port that is taken becomes one line naming its variable, and `make run` says where
to open the playground.

gunicorn itself retries a taken port for five seconds and gives up without naming a variable; the probe
responder would die with a traceback. gunicorn.conf.py asks ``taken_port`` once, before either binds.
"""

from __future__ import annotations

import errno
import socket


def taken_port(host: str, ports: dict[str, int | None]) -> str | None:
    """Why the service cannot listen on ``host`` at ``ports`` (variable -> port; None or 0: nothing to
    check), or None when every port is free."""
    for variable, port in ports.items():
        if port and _in_use(host, port):
            hint = ", auto (any free port) or 0 (off)" if variable == "HEALTH_PORT" else ""
            return (
                f"{variable}={port} is already in use on {host} (another imgopt, or another server?); "
                f"stop it, or set {variable} to a free port{hint}"
            )
    return None


def _in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: TIME_WAIT is free
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def local_link(host: str, port: int, *, playground: bool, token: str) -> str:
    """What `make run` prints once the service answers: the playground's address with the token in its
    fragment (which the browser never sends; the page keeps it for the tab), or the health check's."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    if not playground:
        return f"imgopt is ready on {base} (PLAYGROUND is off; try {base}/health)"
    return f"imgopt is ready: open {base}/#token={token} (the playground, already holding your token)"
