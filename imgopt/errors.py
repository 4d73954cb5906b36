"""Domain errors and the one registry of error codes: each code has an HTTP status and a meaning.

Callers branch on the code, so codes are stable. Every error raised carries a code from ``ERROR_CODES``
(constructing one with an unknown code is a bug and fails at once); docs/api.md and docs/openapi.yaml list
exactly these (tests/test_error_codes.py). Nothing here imports Flask, so the imaging layer raises these
without knowing about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """A machine-readable error code's HTTP status and its one-line meaning."""

    status: int
    meaning: str


# Every form field that shapes an output, in the order the docs list them; each has its invalid_<field> code.
# Declared here, with the codes, and re-exported by imgopt.imaging.options (imaging imports errors, not back).
OPTION_FIELDS = (
    "format",
    "quality",
    "width",
    "height",
    "fit",
    "enlarge",
    "lossless",
    "animated",
    "crop",
    "gravity",
    "focus",
    "target",
    "background",
    "widths",
    "min_width",
    "max_width",
    "max_images",
    "bytes_step",
    "operations",
)

# Every operation (imgopt/imaging/operations/), each with its invalid_<operation> code: a bad value names the
# operation at fault. tests/test_operations.py checks this list against the operations declared.
OPERATION_NAMES = (
    "sharpen",
    "blur",
    "greyscale",
    "sepia",
    "brightness",
    "contrast",
    "gamma",
    "colorize",
    "pixelate",
    "flip",
    "orientation",
    "border",
    "watermark",
)


def _invalid(field: str) -> ErrorCode:
    return ErrorCode(400, f"the {field} field's value is outside its allowed set")


ERROR_CODES: dict[str, ErrorCode] = {
    "bad_request": ErrorCode(400, "the request is malformed (e.g. a body shorter than its Content-Length)"),
    "not_multipart": ErrorCode(400, "the body is not multipart/form-data with a boundary"),
    "missing_file": ErrorCode(400, "no 'file' part, or 'file' sent as a text field"),
    "empty_file": ErrorCode(400, "the 'file' part has no bytes"),
    **{f"invalid_{field}": _invalid(field) for field in OPTION_FIELDS},
    **{
        f"invalid_{name}": ErrorCode(400, f"the {name} operation's arguments are outside their allowed set")
        for name in OPERATION_NAMES
    },
    "malformed_request": ErrorCode(400, "HTTP framing that cannot be parsed: request line, headers, chunks"),
    "invalid_variants": ErrorCode(400, "the variants field is missing or malformed"),
    "too_many_variants": ErrorCode(400, "variants lists more renditions than MAX_VARIANTS"),
    "unauthorized": ErrorCode(401, "the bearer token is missing or wrong"),
    "not_found": ErrorCode(404, "no such route"),
    "method_not_allowed": ErrorCode(405, "the route exists, the method does not"),
    "request_timeout": ErrorCode(408, "the upload stalled or was too slow"),
    "request_line_too_long": ErrorCode(414, "the request line is longer than 4094 bytes"),
    "expectation_failed": ErrorCode(417, "an Expect header other than 100-continue"),
    "headers_too_large": ErrorCode(431, "more than 50 header fields, or one longer than 8190 bytes"),
    "payload_too_large": ErrorCode(413, "the body is larger than MAX_UPLOAD_MB"),
    "unsupported_format": ErrorCode(415, "not an image in a format the service accepts"),
    "undecodable_image": ErrorCode(422, "a recognised image that cannot be decoded"),
    "image_too_large": ErrorCode(
        422, "the source is over MAX_SOURCE_PIXELS or its decode over MAX_DECODE_MB"
    ),
    "too_many_frames": ErrorCode(422, "an animation with more than MAX_FRAMES frames"),
    "output_too_large": ErrorCode(422, "an output larger than its format allows, or too slow to encode"),
    "client_gone": ErrorCode(499, "the client closed its connection before the work was done; none was made"),
    "deadline_exceeded": ErrorCode(
        503, "the request's time ran out (its declared deadline, or TIMEOUT) before its work was done"
    ),
    "overloaded": ErrorCode(
        503,
        "the request waited for a worker longer than MAX_QUEUE_WAIT (or its caller waits); retry after "
        "Retry-After",
    ),
    "http_error": ErrorCode(400, "any other HTTP-level refusal (the status says which)"),
    "internal_error": ErrorCode(500, "a bug; logged with a traceback and the request id"),
}


class ImgoptError(Exception):
    """Base of every error the service reports to a caller; its status comes from its code."""

    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        code = code or self.code
        if code not in ERROR_CODES:
            msg = f"error code {code!r} is not in imgopt.errors.ERROR_CODES"
            raise ValueError(msg)
        self.message = message
        self.code = code

    @property
    def status(self) -> int:
        """The HTTP status the registry gives this error's code."""
        return ERROR_CODES[self.code].status


class BadRequest(ImgoptError):
    """The request itself is malformed (no multipart body, no file)."""

    code = "bad_request"


class InvalidOption(BadRequest):
    """A form field has a value outside its allowed set; the code names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, code=f"invalid_{field}")
        self.field = field


class InvalidVariants(BadRequest):
    """The ``variants`` field is missing or malformed."""

    code = "invalid_variants"


class Unauthorized(ImgoptError):
    """Missing or wrong bearer token."""

    code = "unauthorized"


class RequestTimeout(ImgoptError):
    """The upload stalled (BODY_READ_TIMEOUT without a byte) or took longer than the whole-body limit."""

    code = "request_timeout"


class PayloadTooLarge(ImgoptError):
    """The request body is larger than MAX_UPLOAD_MB."""

    code = "payload_too_large"


class UnsupportedFormat(ImgoptError):
    """The bytes are not an image in a format we accept."""

    code = "unsupported_format"


class UnprocessableImage(ImgoptError):
    """A recognised image we refuse or cannot decode (corrupt, truncated, over a limit)."""

    code = "undecodable_image"


class ImageTooLarge(UnprocessableImage):
    """The image exceeds a size limit (pixels, frames, memory or output size)."""

    code = "image_too_large"


class ClientGone(ImgoptError):
    """The client has closed its connection: whatever is left of its request is not worth making."""

    code = "client_gone"


class DeadlineExceeded(ImgoptError):
    """The request's time ran out while it was being made: the caller has stopped waiting, or the worker
    would be stopped before it could answer. What is left is not made."""

    code = "deadline_exceeded"


class Overloaded(ImgoptError):
    """The request waited for a worker too long to be worth making now; the caller should come back after
    ``retry_after_seconds``, the wait a new request can expect."""

    code = "overloaded"

    def __init__(self, message: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


# Werkzeug's own HTTP errors (routing, mostly) by status, in our codes; any other status is http_error.
HTTP_STATUS_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    415: "unsupported_format",
}
