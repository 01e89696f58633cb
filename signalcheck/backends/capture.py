"""The capture receiver's read API: traces, logs and alert notifications it received.

Every span and log record carries `received_at` (unix seconds): when the receiver stored it,
the arrival time that time-to-appear is measured from.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from signalcheck.backends.base import BackendClient, JsonObject, JsonValue, QueryValue
from signalcheck.backends.spans import FetchedTrace, Span
from signalcheck.config import CaptureBackend

MAX_LIMIT = 100_000
"""The most records one read of the receiver answers (its `limit` parameter's maximum)."""


class LogRecord(TypedDict):
    """One log record of `/api/logs` (`signalcheck.capture.otlp.LogRecord` as JSON)."""

    time: float
    severity_text: str
    severity_number: int
    body: JsonValue
    trace_id: str | None
    span_id: str | None
    service: str
    attributes: JsonObject
    resource: JsonObject
    received_at: float | None


class Notification(TypedDict):
    """One alert of one webhook call, of `/api/notifications` (times in unix seconds)."""

    received_at: float
    receiver: str
    status: Literal["firing", "resolved"]
    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float | None
    ends_at: float | None
    fingerprint: str


class CaptureClient(BackendClient):
    name = "capture"
    health_path = "/health"

    def trace(self, trace_id: str) -> list[Span]:
        """The spans of one trace; empty while none has arrived."""
        response = self.request("GET", f"/api/traces/{trace_id}")
        if response.status_code == 404:
            return []
        spans: list[Span] = self.decode(response)["spans"]
        return spans

    def fetch_trace(self, trace_id: str) -> FetchedTrace:
        """The spans of one trace (the receiver stores whole spans: never partial)."""
        return FetchedTrace(self.trace(trace_id))

    def spans(self, **filters: QueryValue) -> list[Span]:
        """Spans by service, name, trace_id, time (`start`, `end`) or attribute
        (`attr="key=value"`)."""
        spans: list[Span] = self.get_json("/api/spans", **filters)["spans"]
        return spans

    def logs(self, **filters: QueryValue) -> list[LogRecord]:
        """Log records by time range (`start`, `end`), trace_id, attribute, text or severity."""
        logs: list[LogRecord] = self.get_json("/api/logs", **filters)["logs"]
        return logs

    def notifications(self, **filters: QueryValue) -> list[Notification]:
        """Alertmanager notifications by alertname, receiver, status or `since` (unix seconds),
        of the configured `source` (the pipeline's own unless a shadow's is set)."""
        source = self.backend.source if isinstance(self.backend, CaptureBackend) else ""
        notifications: list[Notification] = self.get_json(
            "/api/notifications", source=source or None, **filters
        )["notifications"]
        return notifications
