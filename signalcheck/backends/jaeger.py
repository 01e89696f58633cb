"""Jaeger query service HTTP API (`/api/traces/{id}`, `/api/services`, operations)."""

from __future__ import annotations

from typing import Any

from signalcheck.backends.base import BackendClient, BackendError


def _tags(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {item["key"]: item.get("value") for item in items or []}


def _status(tags: dict[str, Any]) -> str:
    if tags.get("error") in (True, "true") or tags.get("otel.status_code") == "ERROR":
        return "ERROR"
    return "OK" if tags.get("otel.status_code") == "OK" else "UNSET"


def jaeger_spans(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """One Jaeger trace (`traceID`, `spans`, `processes`) in the common span shape."""
    processes = trace.get("processes", {})
    spans = []
    for span in trace.get("spans", []):
        tags = _tags(span.get("tags"))
        process = processes.get(span.get("processID"), {})
        parent = next(
            (ref["spanID"] for ref in span.get("references") or [] if ref["refType"] == "CHILD_OF"),
            "",
        )
        start = span.get("startTime", 0) / 1e6
        spans.append(
            {
                "trace_id": span["traceID"].rjust(32, "0"),
                "span_id": span["spanID"],
                "parent_span_id": parent,
                "service": process.get("serviceName", ""),
                "name": span.get("operationName", ""),
                "kind": str(tags.get("span.kind", "internal")).upper(),
                "start_time": start,
                "end_time": start + span.get("duration", 0) / 1e6,
                "status_code": _status(tags),
                "attributes": tags,
                "resource": _tags(process.get("tags")),
            }
        )
    return spans


class JaegerClient(BackendClient):
    name = "jaeger"
    health_path = "/api/services"

    def _data(self, path: str, **params: Any) -> Any:
        body = self.get_json(path, **params)
        if not isinstance(body, dict) or body.get("errors"):
            raise BackendError(f"jaeger: {path} answered {body}")
        return body.get("data") or []

    def trace_body(self, trace_id: str) -> dict[str, Any] | None:
        """The raw Jaeger trace (`traceID`, `spans`, `processes`), or None when not found."""
        response = self.request("GET", f"/api/traces/{trace_id}")
        if response.status_code == 404:
            return None
        data = self.decode(response).get("data") or []
        return data[0] if data else None

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """The spans of one trace in the common span shape; empty while none has arrived."""
        body = self.trace_body(trace_id)
        return jaeger_spans(body) if body else []

    def services(self) -> list[str]:
        return self._data("/api/services")

    def operations(self, service: str) -> list[str]:
        return self._data(f"/api/services/{service}/operations")
