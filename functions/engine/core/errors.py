"""One exception tree; `web` turns any AppError into the JSON error shape (README, "API")."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(EngineError):
    """A setting is missing or malformed; raised at start, names the variable."""


class AppError(EngineError):
    """An error answered to an HTTP client: {"error": {"code", "message", "details"}}."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details=None, headers: dict[str, str] | None = None, events: int = 1):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.events = events  # how many events this refusal covers, for the ops counters


class BadRequest(AppError):
    status, code = 400, "bad_request"


class InvalidJson(AppError):
    status, code = 400, "invalid_json"


class ValidationFailed(AppError):
    status, code = 400, "validation_failed"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class MethodNotAllowed(AppError):
    status, code = 405, "method_not_allowed"


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(AppError):
    status, code = 415, "unsupported_media_type"


class TooManyRequests(AppError):
    status, code = 429, "rate_limited"


class ServiceUnavailable(AppError):
    status, code = 503, "unavailable"


class Backpressured(AppError):
    """The pipeline is behind: retry after Retry-After; nothing of this request was stored."""

    status, code = 503, "backpressure"
