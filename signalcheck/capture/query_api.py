"""The receiver's read API the validators use: its health and counts, traces, spans, logs,
metric data point counts and notifications."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, Query

from signalcheck.backends.capture import MAX_LIMIT
from signalcheck.capture.store import DEFAULT_LIMIT, CaptureStore
from signalcheck.capture.webhook_api import SOURCE_PATTERN

_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def _attr_filters(values: list[str], name: str = "attr") -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, expected = value.partition("=")
        if not sep or not key:
            raise HTTPException(400, f"{name} must be key=value, got {value!r}")
        pairs.append((key, expected))
    return pairs


def query_router(store: CaptureStore) -> APIRouter:
    """GET /health and /api/..."""
    router = APIRouter()

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", **store.counts()}

    @router.get("/api/traces/{trace_id}")
    def get_trace(trace_id: str) -> dict[str, Any]:
        if not _TRACE_ID.match(trace_id):
            raise HTTPException(400, f"trace id must be 32 hex digits, got {trace_id!r}")
        trace_id = trace_id.lower()
        spans = store.get_trace(trace_id)
        if not spans:
            raise HTTPException(404, f"no spans of trace {trace_id}")
        return {"trace_id": trace_id, "spans": [s.model_dump() for s in spans]}

    @router.get("/api/spans")
    def find_spans(
        service: str | None = None,
        name: str | None = None,
        trace_id: str | None = None,
        attr: list[str] = Query(default=[]),
        start: float | None = None,
        end: float | None = None,
        limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> dict[str, Any]:
        spans = store.find_spans(
            service=service,
            name=name,
            trace_id=trace_id,
            attrs=_attr_filters(attr),
            start=start,
            end=end,
            limit=limit,
        )
        return {"spans": [s.model_dump() for s in spans]}

    @router.get("/api/logs")
    def find_logs(
        start: float | None = None,
        end: float | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        service: str | None = None,
        attr: list[str] = Query(default=[]),
        text: str | None = None,
        severity: str | None = None,
        limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> dict[str, Any]:
        logs = store.find_logs(
            start=start,
            end=end,
            trace_id=trace_id,
            span_id=span_id,
            service=service,
            attrs=_attr_filters(attr),
            text=text,
            severity=severity,
            limit=limit,
        )
        return {"logs": [rec.model_dump() for rec in logs]}

    @router.get("/api/metrics")
    def find_metrics(service: str | None = None, name: str | None = None) -> dict[str, Any]:
        """The data points received per service and metric name."""
        return {"metrics": [m.model_dump() for m in store.find_metrics(service=service, name=name)]}

    @router.get("/api/notifications")
    def find_notifications(
        alertname: str | None = None,
        receiver: str | None = None,
        status: str | None = Query(default=None, pattern="^(firing|resolved)$"),
        since: float | None = None,
        label: list[str] = Query(default=[]),
        source: str = Query(default="", pattern=f"^$|{SOURCE_PATTERN}"),
        limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> dict[str, Any]:
        rows = store.find_notifications(
            alertname=alertname,
            receiver=receiver,
            status=status,
            since=since,
            labels=_attr_filters(label, "label"),
            source=source,
            limit=limit,
        )
        return {"notifications": [n.model_dump() for n in rows]}

    return router
