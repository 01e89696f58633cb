"""The capture receiver's read API: traces, logs and alert notifications it received.

Every span and log record carries `received_at` (unix seconds): when the receiver stored it,
the arrival time that time-to-appear is measured from.
"""

from __future__ import annotations

from typing import Any

from signalcheck.backends.base import BackendClient
from signalcheck.backends.spans import FetchedTrace
from signalcheck.config import CaptureBackend


class CaptureClient(BackendClient):
    name = "capture"
    health_path = "/health"

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """The spans of one trace; empty while none has arrived."""
        response = self.request("GET", f"/api/traces/{trace_id}")
        return [] if response.status_code == 404 else self.decode(response)["spans"]

    def fetch_trace(self, trace_id: str) -> FetchedTrace:
        """The spans of one trace (the receiver stores whole spans: never partial)."""
        return FetchedTrace(self.trace(trace_id))

    def spans(self, **filters: Any) -> list[dict[str, Any]]:
        """Spans by service, name, trace_id, time (`start`, `end`) or attribute
        (`attr="key=value"`)."""
        return self.get_json("/api/spans", **filters)["spans"]

    def logs(self, **filters: Any) -> list[dict[str, Any]]:
        """Log records by time range (`start`, `end`), trace_id, attribute, text or severity."""
        return self.get_json("/api/logs", **filters)["logs"]

    def notifications(self, **filters: Any) -> list[dict[str, Any]]:
        """Alertmanager notifications by alertname, receiver, status or `since` (unix seconds),
        of the configured `source` (the pipeline's own unless a shadow's is set)."""
        source = self.backend.source if isinstance(self.backend, CaptureBackend) else ""
        return self.get_json("/api/notifications", source=source or None, **filters)[
            "notifications"
        ]
