"""A seekable read-only file over an upload's bytes that copies nothing.

``io.BytesIO`` shares a ``bytes`` object but copies anything else; a large upload is a slice (memoryview) of
the request body, and copying 30 MB for every open of a camera original doubled a worker's peak memory.
Reading through it costs the JPEG decoder ~7% more than BytesIO, so the HTTP layer hands small uploads over
as bytes (imgopt/http/uploads.py).
"""

from __future__ import annotations

import io

# What an upload may be held as (collections.abc.Buffer is Python 3.12+).
Buffer = bytes | bytearray | memoryview


class BufferFile(io.RawIOBase):
    """``read``/``seek``/``tell`` over a buffer (bytes, bytearray, memoryview), without copying it."""

    def __init__(self, data: Buffer) -> None:
        super().__init__()
        self._view = memoryview(data).cast("B")
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target: Buffer) -> int:
        window = memoryview(target).cast("B")
        count = max(0, min(len(window), len(self._view) - self._position))
        window[:count] = self._view[self._position : self._position + count]
        self._position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._view)}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position


def open_buffer(data: Buffer) -> io.IOBase:
    """A binary file reading ``data``: a BytesIO for bytes (it shares them), else a BufferFile."""
    if isinstance(data, bytes):
        return io.BytesIO(data)
    return io.BufferedReader(BufferFile(data))
