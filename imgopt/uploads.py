"""Request class that keeps uploaded file parts in memory."""

from __future__ import annotations

import io
from typing import IO

from flask import Request


class InMemoryUploadRequest(Request):
    """A Flask request whose file parts go to a BytesIO, never to a temporary file.

    Werkzeug spools parts over 500 KiB to disk. Our bodies are capped by MAX_UPLOAD_MB and the pipeline
    needs the bytes in memory anyway, so a temporary file only adds syscalls, a copy and something to clean
    up when a client disconnects mid-upload.
    """

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()
