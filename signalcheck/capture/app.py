"""FastAPI app of the capture receiver: OTLP/HTTP traces and logs (stored) and metrics
(counted: data points per service and metric name), Alertmanager webhook, and the read API the
validators use.

Write endpoints decode the whole body before storing anything and store it in one
transaction: a malformed body answers 400 with a reason and changes nothing. An unsupported
Content-Type or Content-Encoding answers 415, a body above the limit 413.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from starlette.concurrency import run_in_threadpool

from signalcheck.capture.alerts import decode_webhook, notifications_from_payload
from signalcheck.capture.otlp import (
    DEFAULT_MAX_BODY_BYTES,
    BodyFormat,
    CaptureInputError,
    PayloadTooLarge,
    UnsupportedMediaType,
    decode_logs,
    decode_metrics,
    decode_traces,
    decompress,
    media_format,
)
from signalcheck.capture.store import DEFAULT_LIMIT, MAX_LIMIT, CaptureStore

__all__ = ["create_app"]

_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
"""A notification source: a bounded path segment (a shadow pipeline's name)."""


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw request body, refusing (413) anything longer than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise CaptureInputError(f"invalid Content-Length {declared!r}") from None
        if size > limit:
            raise PayloadTooLarge(f"body of {size} bytes is larger than the {limit} byte limit")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"body is larger than the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _attr_filters(values: list[str], name: str = "attr") -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, expected = value.partition("=")
        if not sep or not key:
            raise HTTPException(400, f"{name} must be key=value, got {value!r}")
        pairs.append((key, expected))
    return pairs


def create_app(store: CaptureStore, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    """The capture receiver's app, reading and writing ``store``."""
    app = FastAPI(
        title="signalcheck capture receiver",
        description="OTLP/HTTP traces and logs and Alertmanager notifications, kept in SQLite; "
        "OTLP/HTTP metrics counted (data points per service and metric).",
    )
    app.state.store = store
    app.state.max_body_bytes = max_body_bytes

    @app.exception_handler(CaptureInputError)
    async def _input_error(_: Request, exc: CaptureInputError) -> JSONResponse:
        return JSONResponse({"detail": exc.reason}, status_code=exc.status)

    async def _otlp_export(
        request: Request,
        decode: Callable[[bytes, BodyFormat], list[Any]],
        insert: Callable[[list[Any]], int],
        empty_response: Any,
    ) -> Response:
        fmt = media_format(request.headers.get("content-type"))
        raw = await _read_body(request, max_body_bytes)

        def work() -> None:
            body = decompress(raw, request.headers.get("content-encoding"), max_body_bytes)
            records = decode(body, fmt)  # decode all before storing anything
            insert(records)  # one transaction

        await run_in_threadpool(work)
        if fmt == "protobuf":
            # OTLP/HTTP: answer in the request's encoding; an empty Export*ServiceResponse.
            return Response(empty_response.SerializeToString(), media_type="application/x-protobuf")
        return JSONResponse({})

    @app.post("/v1/traces")
    async def otlp_traces(request: Request) -> Response:
        return await _otlp_export(
            request,
            decode_traces,
            store.insert_spans,
            trace_service_pb2.ExportTraceServiceResponse(),
        )

    @app.post("/v1/logs")
    async def otlp_logs(request: Request) -> Response:
        return await _otlp_export(
            request, decode_logs, store.insert_logs, logs_service_pb2.ExportLogsServiceResponse()
        )

    @app.post("/v1/metrics")
    async def otlp_metrics(request: Request) -> Response:
        """Counted, not stored as series: Prometheus is the metrics backend."""
        return await _otlp_export(
            request,
            decode_metrics,
            store.insert_metric_points,
            metrics_service_pb2.ExportMetricsServiceResponse(),
        )

    async def _webhook(request: Request, source: str) -> dict[str, Any]:
        received_at = time.time()
        content_type = request.headers.get("content-type")
        if media_format(content_type) != "json":
            raise UnsupportedMediaType(
                f"unsupported Content-Type {content_type}: expected application/json"
            )
        raw = await _read_body(request, max_body_bytes)

        def work() -> int:
            body = decompress(raw, request.headers.get("content-encoding"), max_body_bytes)
            payload = decode_webhook(body)
            rows = notifications_from_payload(payload, received_at, source)
            return store.insert_notifications(rows, group_key=payload.group_key)

        stored = await run_in_threadpool(work)
        return {"stored": stored}

    @app.post("/alertmanager/webhook")
    async def alertmanager_webhook(request: Request) -> dict[str, Any]:
        """The real pipeline's Alertmanager (source '')."""
        return await _webhook(request, "")

    @app.post("/alertmanager/webhook/{source}")
    async def alertmanager_webhook_of(
        request: Request, source: str = Path(pattern=SOURCE_PATTERN)
    ) -> dict[str, Any]:
        """Another pipeline's Alertmanager (e.g. a `signalcheck mutate` shadow), kept apart
        under its `source`."""
        return await _webhook(request, source)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", **store.counts()}

    @app.get("/api/traces/{trace_id}")
    def get_trace(trace_id: str) -> dict[str, Any]:
        if not _TRACE_ID.match(trace_id):
            raise HTTPException(400, f"trace id must be 32 hex digits, got {trace_id!r}")
        trace_id = trace_id.lower()
        spans = store.get_trace(trace_id)
        if not spans:
            raise HTTPException(404, f"no spans of trace {trace_id}")
        return {"trace_id": trace_id, "spans": [s.model_dump() for s in spans]}

    @app.get("/api/spans")
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

    @app.get("/api/logs")
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

    @app.get("/api/metrics")
    def find_metrics(service: str | None = None, name: str | None = None) -> dict[str, Any]:
        """The data points received per service and metric name."""
        return {"metrics": [m.model_dump() for m in store.find_metrics(service=service, name=name)]}

    @app.get("/api/notifications")
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

    return app
