"""Grafana Tempo HTTP API: trace by id (v1 and v2 endpoints) and TraceQL search."""

from __future__ import annotations

from typing import Any

from signalcheck.backends.base import BackendClient
from signalcheck.backends.spans import otlp_spans


class TempoClient(BackendClient):
    name = "tempo"
    health_path = "/api/echo"

    def __init__(self, *args: Any, api_version: int = 2, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.api_version = api_version

    def check_reachable(self) -> None:
        """`/api/echo` answers plain text ("echo"), not JSON."""
        response = self.request("GET", self.health_path)
        if response.is_error:
            self.decode(response)

    def trace_body(
        self, trace_id: str, start: float | None = None, end: float | None = None
    ) -> dict[str, Any] | None:
        """The raw JSON of one trace, or None while Tempo does not have it (404).

        v1 (`/api/traces/<id>`) answers `{"batches": [...]}`; v2 (`/api/v2/traces/<id>`)
        answers `{"trace": {"resourceSpans": [...]}}`."""
        prefix = "/api/v2/traces" if self.api_version == 2 else "/api/traces"
        params = {
            key: int(value) for key, value in (("start", start), ("end", end)) if value is not None
        }
        response = self.request(
            "GET", f"{prefix}/{trace_id}", params=params, headers={"Accept": "application/json"}
        )
        return None if response.status_code == 404 else self.decode(response)

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """The spans of one trace in the common span shape; empty while none has arrived."""
        body = self.trace_body(trace_id)
        if not body:
            return []
        resource_spans = (body.get("trace") or {}).get("resourceSpans") or body.get("batches")
        return otlp_spans(resource_spans or [])

    def search(
        self,
        traceql: str,
        start: float | None = None,
        end: float | None = None,
        limit: int = 20,
        spss: int | None = None,
    ) -> list[dict[str, Any]]:
        """Traces matching a TraceQL query: `traceID`, `rootServiceName`, `rootTraceName`,
        `startTimeUnixNano`, `durationMs` and the matching `spanSets`."""
        body = self.get_json(
            "/api/search",
            q=traceql,
            start=None if start is None else int(start),
            end=None if end is None else int(end),
            limit=limit,
            spss=spss,
        )
        return body.get("traces") or []
