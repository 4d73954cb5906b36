"""Domain errors: each carries an HTTP status and a stable machine code callers can branch on.

Nothing here imports Flask, so the pipeline can raise these without knowing about HTTP.
"""

from __future__ import annotations


class ImgoptError(Exception):
    """Base of every error the service reports to a caller."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(ImgoptError):
    """The request itself is malformed (no multipart body, no file)."""

    status = 400
    code = "bad_request"


class InvalidOption(BadRequest):
    """A form field has a value outside its allowed set; the code names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, code=f"invalid_{field}")
        self.field = field


class Unauthorized(ImgoptError):
    """Missing or wrong bearer token."""

    status = 401
    code = "unauthorized"


class RequestTimeout(ImgoptError):
    """The upload stalled (BODY_READ_TIMEOUT without a byte) or took longer than the whole-body limit."""

    status = 408
    code = "request_timeout"


class PayloadTooLarge(ImgoptError):
    """The request body is larger than MAX_UPLOAD_MB."""

    status = 413
    code = "payload_too_large"


class UnsupportedFormat(ImgoptError):
    """The bytes are not an image in a format we accept."""

    status = 415
    code = "unsupported_format"


class UnprocessableImage(ImgoptError):
    """A recognised image we refuse or cannot decode (corrupt, truncated, over a limit)."""

    status = 422
    code = "undecodable_image"


class ImageTooLarge(UnprocessableImage):
    """The image exceeds a size limit (pixels, frames, memory or output size)."""

    code = "image_too_large"
