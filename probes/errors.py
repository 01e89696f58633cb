"""Why a check failed: one of a fixed set of error types (a bounded metric label)."""

from __future__ import annotations

from enum import StrEnum

from signalcheck.errors import SignalcheckError


class ErrorType(StrEnum):
    TIMEOUT = "timeout"
    DNS_ERROR = "dns_error"
    CONNECT_ERROR = "connect_error"
    TLS_ERROR = "tls_error"
    PROTOCOL_ERROR = "protocol_error"
    HTTP_STATUS = "http_status"
    ASSERTION = "assertion"
    INVALID_JSON = "invalid_json"
    REDIRECT_LOOP = "redirect_loop"
    BROWSER_ERROR = "browser_error"
    SCRIPT_ERROR = "script_error"
    OTHER = "other"


class ProbeFailure(SignalcheckError):
    """A failed attempt: its error type, a message, and the workflow step that failed."""

    def __init__(self, error_type: ErrorType, message: str, *, step: str | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.step = step
