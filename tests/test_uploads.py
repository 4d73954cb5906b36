"""The multipart reader: complete bodies split correctly, odd ones degrade to a clear 400."""

from __future__ import annotations

import io

import pytest

from imgopt.errors import BadRequest, PayloadTooLarge
from imgopt.http.uploads import boundary_of, parse_multipart, read_body

B = b"XyZ"


def part(name: str, value: bytes, filename: str | None = None, extra: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    return b"--" + B + f"\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode() + value + b"\r\n"


CLOSE = b"--" + B + b"--\r\n"


@pytest.mark.parametrize(
    ("body", "fields", "files"),
    [
        (part("w", b"320") + part("file", b"\x00\x01", "a.jpg") + CLOSE, {"w": "320"}, {"file": b"\x00\x01"}),
        (b"preamble\r\n" + part("file", b"data", "") + CLOSE + b"epilogue", {}, {"file": b"data"}),
        (part("file", b"not a file part") + CLOSE, {"file": "not a file part"}, {}),
        (part("w", b"") + CLOSE, {"w": ""}, {}),
        (b"--" + B + b'\r\nContent-Disposition: form-data; name="w"\r\n\r\n--' + B + b"--", {"w": ""}, {}),
        (part("q", b"1") + part("q", b"2") + CLOSE, {"q": "1"}, {}),
        (part("file", b"a\r\n--XyZnot\r\nb", "x") + CLOSE, {}, {"file": b"a\r\n--XyZnot\r\nb"}),
        (part("file", b"bytes", "x", "Content-Type: image/gif\r\n") + CLOSE, {}, {"file": b"bytes"}),
        (part("file", b"truncated", "x")[:-10], {}, {}),
        (b"no delimiter at all", {}, {}),
        (b"--" + B + b"\r\nContent-Disposition: attachment\r\n\r\nx\r\n" + CLOSE, {}, {}),
        (part("big", b"x" * 70_000) + CLOSE, {}, {}),
    ],
    ids=["normal", "preamble-epilogue", "file-as-text", "empty-value", "empty-value-no-crlf", "first-wins",
         "lookalike-boundary", "part-content-type", "truncated", "no-delimiter", "not-form-data",
         "oversized-field"],
)  # fmt: skip
def test_multipart_bodies_split_into_fields_and_files(body, fields, files):
    upload = parse_multipart(body, B)
    assert upload.fields == fields
    assert upload.files == files


def test_part_count_is_bounded():
    body = b"".join(part(f"f{index}", b"v") for index in range(500)) + CLOSE
    assert len(parse_multipart(body, B).fields) == 64


@pytest.mark.parametrize(
    ("header", "boundary"),
    [
        ("multipart/form-data; boundary=XyZ", b"XyZ"),
        ('multipart/form-data; boundary="a b:c"', b"a b:c"),
        ("Multipart/Form-Data; charset=utf-8; boundary=q", b"q"),
    ],
)
def test_boundary_is_read_from_the_content_type(header, boundary):
    assert boundary_of(header) == boundary


@pytest.mark.parametrize(
    "header",
    [
        "",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "application/json",
        "multipart/mixed; boundary=a",
    ],
)
def test_missing_boundary_is_400_not_multipart(header):
    with pytest.raises(BadRequest) as caught:
        boundary_of(header)
    assert caught.value.code == "not_multipart"


@pytest.mark.parametrize(("length", "data"), [(None, b"x" * 11), (11, b"x" * 11), (5000, b"")])
def test_bodies_over_the_limit_are_413(length, data):
    with pytest.raises(PayloadTooLarge):
        read_body(io.BytesIO(data), length if length != 5000 else 5000, max_bytes=10)


def test_a_short_body_is_400():
    with pytest.raises(BadRequest, match="ended after 3 of 9 bytes"):
        read_body(io.BytesIO(b"abc"), 9, max_bytes=100)


def test_a_body_without_length_is_read_to_the_end():
    assert read_body(io.BytesIO(b"abcdef"), None, max_bytes=100) == b"abcdef"
