"""Cheap facts read from an image's header bytes before any pixel is decoded."""

from __future__ import annotations


def count_gif_frames(data: bytes | bytearray | memoryview, stop_after: int) -> int:
    """Count the image descriptors in a GIF by walking its blocks, without decoding any pixels.

    Pillow's ``n_frames`` decodes every frame to find the next one, which is exactly the work a frame
    bomb wants us to do. Counting stops once ``stop_after`` is exceeded; a malformed stream returns the
    count so far (the decoder reports the damage later).
    """
    view = memoryview(data)
    size = len(view)
    if size < 13 or bytes(view[:3]) != b"GIF":
        return 0
    pos = 13
    flags = view[10]
    if flags & 0x80:
        pos += 3 << ((flags & 0x07) + 1)
    frames = 0
    while pos < size and frames <= stop_after:
        marker = view[pos]
        if marker == 0x3B:  # trailer
            break
        if marker == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_sub_blocks(view, pos + 2)
        elif marker == 0x2C:  # image descriptor, optional local colour table, LZW code size, sub-blocks
            if pos + 10 > size:
                break
            frames += 1
            local = view[pos + 9]
            pos += 10
            if local & 0x80:
                pos += 3 << ((local & 0x07) + 1)
            pos = _skip_sub_blocks(view, pos + 1)
        else:
            break
    return frames


def _skip_sub_blocks(view: memoryview, pos: int) -> int:
    size = len(view)
    while pos < size:
        length = view[pos]
        pos += 1
        if length == 0:
            return pos
        pos += length
    return size
