"""A request body of known length read straight from the socket into the caller's buffer.

gunicorn's reader hands the body over as bytes that went through its own buffers on the way (a chunk
written into a BytesIO, read back out, sliced, and again one level up): five copies of a 3 MB photo, 7% of a
320 px thumbnail's time in the worker (docs/performance.md). Here the bytes gunicorn already read ahead are
taken first and the rest is received into the caller's buffer with recv_into. Only gunicorn's sync worker's
own types are taken over (setup.cfg pins its minor release); anything else is read as before.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from typing import Any

from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader

ReadInto = Callable[[memoryview], int]


def direct_reader(wsgi_input: Any, sock: socket.socket | None) -> ReadInto | None:
    """``read_into(view)``: fills ``view`` from the body (stopping at its end) and returns how many bytes it
    wrote; None when the body is not one this can read (chunked, or not gunicorn's)."""
    if sock is None or not isinstance(wsgi_input, Body):
        return None
    reader = wsgi_input.reader
    if not isinstance(reader, LengthReader) or not isinstance(reader.unreader, SocketUnreader):
        return None

    def read_into(view: memoryview) -> int:
        held = wsgi_input.buf.getvalue()
        filled = _take(held, view, 0)
        wsgi_input.buf = io.BytesIO()
        wsgi_input.buf.write(held[filled:])
        if filled < len(view) and reader.length:
            ahead = reader.unreader.take_buffered()
            used = min(len(ahead), reader.length, len(view) - filled)
            filled = _take(ahead[:used], view, filled)
            reader.length -= used
            if used < len(ahead):
                reader.unreader.unread(ahead[used:])  # not this body's: the next request's, if any
        try:
            while filled < len(view) and reader.length:
                received = sock.recv_into(view[filled:], min(len(view) - filled, reader.length))
                if not received:
                    break
                filled += received
                reader.length -= received
        except BaseException:
            wsgi_input.failed = True  # as gunicorn marks it: the connection must not be reused
            raise
        return filled

    return read_into


def _take(data: bytes, view: memoryview, at: int) -> int:
    count = min(len(data), len(view) - at)
    view[at : at + count] = data[:count]
    return at + count
