"""Response bodies: the /variants JSON, streamed, each rendition base64-encoded a chunk at a time.

The document is composed from values the json module encodes; only each rendition's ``data`` string is
written by hand, because it is produced chunk by chunk while the body is sent, so the worker never holds a
second, larger copy of every output at once. The exact length is known before the first byte goes out.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from imgopt.imaging.outputs import Rendition, RenditionSet

# Raw bytes per base64 chunk of the streamed /variants body (a multiple of 3, so chunks join cleanly).
BASE64_CHUNK = 3 * 256 * 1024


class Base64String:
    """A JSON string holding ``data`` in base64, produced a chunk at a time."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __len__(self) -> int:
        return 2 + 4 * ((len(self.data) + 2) // 3)

    def chunks(self) -> Iterator[bytes]:
        yield b'"'
        for offset in range(0, len(self.data), BASE64_CHUNK):
            yield base64.b64encode(self.data[offset : offset + BASE64_CHUNK])
        yield b'"'


Part = bytes | Base64String


def _value(value: Any) -> list[Part]:
    """The parts of one JSON value: objects and arrays are composed, everything else is json.dumps'."""
    if isinstance(value, Base64String):
        return [value]
    if isinstance(value, dict):
        parts: list[Part] = [b"{"]
        for index, (key, item) in enumerate(value.items()):
            parts.append((b", " if index else b"") + json.dumps(key).encode() + b": ")
            parts.extend(_value(item))
        return [*parts, b"}"]
    if isinstance(value, list | tuple):
        parts = [b"["]
        for index, item in enumerate(value):
            if index:
                parts.append(b", ")
            parts.extend(_value(item))
        return [*parts, b"]"]
    return [json.dumps(value).encode()]


def _coalesced(parts: list[Part]) -> list[Part]:
    """Adjacent byte parts joined, so the body goes out in a few writes rather than one per value."""
    joined: list[Part] = []
    for part in parts:
        if isinstance(part, bytes) and joined and isinstance(joined[-1], bytes):
            joined[-1] += part
        else:
            joined.append(part)
    return joined


def _rendition(rendition: Rendition) -> dict[str, Any]:
    return {
        "name": rendition.name,
        "format": rendition.format,
        "media_type": rendition.media_type,
        "width": rendition.width,
        "height": rendition.height,
        "frames": rendition.frames,
        "bytes": len(rendition.data),
        "quality": rendition.quality,
        "score": rendition.score,
        # The part of the upright source it shows, [left, top, right, bottom] in source pixels (a crop or a
        # cover window); null when it shows all of it.
        "region": [round(edge, 2) for edge in rendition.crop_box] if rendition.crop_box else None,
        "data": Base64String(rendition.data),
    }


def rendition_set_body(result: RenditionSet) -> tuple[Iterator[bytes], int]:
    """The /variants JSON body as a stream, and its exact length."""
    document = {
        "source": asdict(result.source),
        "placeholder": asdict(result.placeholder) if result.placeholder else None,
        "variants": [_rendition(rendition) for rendition in result.renditions],
    }
    parts = _coalesced(_value(document))

    def stream() -> Iterator[bytes]:
        for part in parts:
            if isinstance(part, Base64String):
                yield from part.chunks()
            else:
                yield part

    return stream(), sum(len(part) for part in parts)
