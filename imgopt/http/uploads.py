"""Read the upload: the whole body into one buffer, then its multipart parts found with bytes.find.

Werkzeug's streaming parser pulls the body through in 64 KiB reads and copies each chunk a few times; for a
3 MB photo that was 12-18 ms per request under gunicorn, as much as making a 320 px thumbnail. Our bodies
are capped by MAX_UPLOAD_MB and the pipeline needs the bytes in memory anyway, so we read the body once,
a megabyte a read into one preallocated buffer, and split it in C-speed searches. Nothing touches the
disk, so nothing is left behind when a client disconnects.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import IO

from flask import request
from werkzeug.http import parse_options_header

from imgopt.errors import BadRequest, PayloadTooLarge, RequestTimeout
from imgopt.http.middleware import NOTHING, limit_drain
from imgopt.http.request_facts import elapsed_ms, request_facts
from imgopt.http.runtime import runtime
from imgopt.server.deadlines import within
from imgopt.server.environ import HEARTBEAT, READ_INTO
from imgopt.server.request_body import ReadInto

MAX_PARTS = 64
# An upload up to this size is copied out of the body as bytes, which the decoders read fastest (a 3 MB
# JPEG decodes ~3 ms sooner); a larger one stays a view into the body, so a 40 MiB camera original is held
# once, not twice (imgopt/imaging/buffer.py).
COPY_UPLOADS_UP_TO = 8 * 1024 * 1024
# The whole upload must arrive within this share of TIMEOUT, so that a slow or trickling client gets 408
# long before gunicorn's worker timeout would kill the worker; the conversion has the rest.
BODY_SHARE_OF_TIMEOUT = 1 / 3
MAX_FIELD_BYTES = 64 * 1024
MAX_BOUNDARY = 200  # RFC 2046 allows 70; some clients are generous


@dataclass
class Upload:
    """Text fields and file parts of a multipart body; the first part of a name wins."""

    fields: dict[str, str] = field(default_factory=dict)
    # Views into the body, not copies: an upload may be 40 MiB.
    files: dict[str, memoryview] = field(default_factory=dict)


def read_upload() -> tuple[bytes | memoryview, dict[str, str], dict[str, memoryview]]:
    """The request's multipart ``file`` part, its text fields and its other file parts (a watermark); 400
    when the file is missing. The time it took and the file's size go into the request's facts."""
    started = time.perf_counter()
    boundary = boundary_of(request.headers.get("Content-Type", ""))
    settings = runtime().settings
    try:
        body = read_body(
            request.environ["wsgi.input"],
            request.content_length,
            settings.max_upload_bytes,
            within_seconds=settings.timeout * BODY_SHARE_OF_TIMEOUT,
            read_into=request.environ.get(READ_INTO),
        )
    except RequestTimeout:
        limit_drain(request.environ, *NOTHING)  # nothing more will come: do not wait to drain it
        raise
    upload = parse_multipart(body, boundary)
    del body
    data = upload.files.get("file")
    if data is None:
        if "file" in upload.fields:
            msg = "'file' arrived as a text field; send it as a file part (with a filename)"
        else:
            msg = "the multipart body has no 'file' part"
        raise BadRequest(msg, code="missing_file")
    if not data:
        msg = "the 'file' part is empty"
        raise BadRequest(msg, code="empty_file")
    if len(data) <= COPY_UPLOADS_UP_TO:
        data = bytes(data)  # decoders read bytes fastest; a small copy costs a fraction of a millisecond
    facts = request_facts()
    facts.source_bytes = len(data)
    facts.upload_ms = elapsed_ms(started)
    heartbeat = request.environ.get(HEARTBEAT)
    if heartbeat is not None:  # the upload is in: the conversion gets its whole share of TIMEOUT
        heartbeat()
    others = {name: part for name, part in upload.files.items() if name != "file"}
    return data, upload.fields, others


def read_body(
    stream: IO[bytes],
    content_length: int | None,
    max_bytes: int,
    *,
    within_seconds: float | None = None,
    read_into: ReadInto | None = None,
) -> bytearray:
    """The whole request body, refusing more than ``max_bytes`` (413) and noticing a short read (400).

    Read a megabyte at a time into one buffer, so a 40 MiB upload costs 40 MiB, not two copies of it.

    A stalled client (the socket's own timeout, set by the worker: BODY_READ_TIMEOUT) or one slower than
    ``within_seconds`` for the whole body gets 408, so the worker is free again long before gunicorn's
    worker timeout would kill it. ``read_into`` (the server's, for a body of known length) receives it
    straight into the buffer.
    """
    if content_length is not None and content_length > max_bytes:
        raise _too_large(max_bytes)
    wanted = max_bytes + 1 if content_length is None else content_length
    try:
        with within(within_seconds):
            if content_length is None:
                body = _read_chunked(stream, wanted)
            else:  # allocated once at its size, and filled
                body = bytearray(wanted)
                with memoryview(body) as view:
                    filled = (read_into or partial(_fill_from, stream))(view)
                del body[filled:]
    except TimeoutError:
        msg = "the upload stalled (no data for BODY_READ_TIMEOUT seconds) or was too slow; send it again"
        raise RequestTimeout(msg) from None
    except Exception as error:  # the server's body reader refused the framing (a bad chunk size, say)
        text = str(error).strip() or type(error).__name__
        msg = f"the request body's framing is malformed: {text}"[:200]
        raise BadRequest(msg, code="malformed_request") from None
    if len(body) > max_bytes:
        raise _too_large(max_bytes)
    if content_length is not None and len(body) < content_length:
        msg = f"the request body ended after {len(body)} of {content_length} bytes"
        raise BadRequest(msg)
    return body


# Bytes per read of the body: large enough that the per-call cost vanishes, small enough not to matter.
READ_CHUNK = 1024 * 1024


def _read_chunked(stream: IO[bytes], wanted: int) -> bytearray:
    """Up to ``wanted`` bytes of a body of unknown length, grown as chunks come."""
    grown = bytearray()
    while len(grown) < wanted and (chunk := stream.read(min(READ_CHUNK, wanted - len(grown)))):
        grown += chunk
    return grown


def _fill_from(stream: IO[bytes], view: memoryview) -> int:
    """Fills ``view`` from ``stream``, stopping early at its end; how many bytes came."""
    filled = 0
    while filled < len(view) and (chunk := stream.read(min(READ_CHUNK, len(view) - filled))):
        view[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    return filled


def _too_large(max_bytes: int) -> PayloadTooLarge:
    msg = f"the request body is larger than {max_bytes // (1024 * 1024)} MiB (MAX_UPLOAD_MB)"
    return PayloadTooLarge(msg)


def boundary_of(content_type: str) -> bytes:
    """The multipart boundary from a Content-Type header; 400 not_multipart when there is none."""
    mimetype, options = parse_options_header(content_type)
    boundary = options.get("boundary", "")
    if mimetype.lower() != "multipart/form-data" or not boundary or len(boundary) > MAX_BOUNDARY:
        msg = "send the image as multipart/form-data (with a boundary) and a 'file' part"
        raise BadRequest(msg, code="not_multipart")
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        msg = "the multipart boundary must be ASCII"
        raise BadRequest(msg, code="not_multipart") from None


def parse_multipart(body: bytes, boundary: bytes) -> Upload:
    """Split a complete multipart/form-data body into fields and files (RFC 7578).

    A part with a ``filename`` parameter is a file, as browsers, curl and Laravel send them; any other part
    is a text field. Malformed parts end the parse: what was complete is kept, the caller decides.
    """
    upload = Upload()
    delimiter = b"--" + boundary
    position = body.find(delimiter)
    parts = 0
    while position >= 0 and parts < MAX_PARTS:
        position += len(delimiter)
        if body.startswith(b"--", position):  # the closing delimiter
            break
        line_end = body.find(b"\r\n", position)
        head_end = body.find(b"\r\n\r\n", line_end) if line_end >= 0 else -1
        if head_end < 0:
            break
        content_start = head_end + 4
        if body.startswith(delimiter, content_start):  # an empty value whose CRLF ended the headers
            content_end, position = content_start, content_start
        else:
            content_end = _next_delimiter(body, delimiter, content_start)
            if content_end < 0:
                break
            position = content_end + 2
        _add_part(upload, body[line_end + 2 : head_end], body, content_start, content_end)
        parts += 1
    return upload


def _next_delimiter(body: bytes, delimiter: bytes, start: int) -> int:
    """Index of the CRLF before the next real delimiter: one followed by CRLF, "--" or padding."""
    needle = b"\r\n" + delimiter
    index = body.find(needle, start)
    while index >= 0:
        after = body[index + len(needle) : index + len(needle) + 2]
        if after in (b"\r\n", b"--") or after[:1] in (b" ", b"\t"):
            return index
        index = body.find(needle, index + 1)
    return -1


def _add_part(upload: Upload, head: bytes, body: bytes, start: int, end: int) -> None:
    disposition = ""
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-disposition":
            disposition = value.decode("utf-8", "replace").strip()
    kind, options = parse_options_header(disposition)
    name = options.get("name")
    if kind != "form-data" or name is None:
        return
    if "filename" in options:
        upload.files.setdefault(name, memoryview(body)[start:end])
    elif end - start <= MAX_FIELD_BYTES:
        upload.fields.setdefault(name, body[start:end].decode("utf-8", "replace"))
