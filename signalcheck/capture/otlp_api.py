"""The receiver's OTLP/HTTP endpoints: traces and logs stored, metrics counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from starlette.concurrency import run_in_threadpool

from signalcheck.capture.otlp import (
    BodyFormat,
    decode_logs,
    decode_metrics,
    decode_traces,
    decompress,
    media_format,
)
from signalcheck.capture.request_body import read_body
from signalcheck.capture.store import CaptureStore


def otlp_router(store: CaptureStore, max_body_bytes: int) -> APIRouter:
    """POST /v1/traces, /v1/logs and /v1/metrics."""
    router = APIRouter()

    async def _otlp_export(
        request: Request,
        decode: Callable[[bytes, BodyFormat], list[Any]],
        insert: Callable[[list[Any]], int],
        empty_response: Any,
    ) -> Response:
        fmt = media_format(request.headers.get("content-type"))
        raw = await read_body(request, max_body_bytes)

        def work() -> None:
            body = decompress(raw, request.headers.get("content-encoding"), max_body_bytes)
            records = decode(body, fmt)  # decode all before storing anything
            insert(records)  # one transaction

        await run_in_threadpool(work)
        if fmt == "protobuf":
            # OTLP/HTTP: answer in the request's encoding; an empty Export*ServiceResponse.
            return Response(empty_response.SerializeToString(), media_type="application/x-protobuf")
        return JSONResponse({})

    @router.post("/v1/traces")
    async def otlp_traces(request: Request) -> Response:
        return await _otlp_export(
            request,
            decode_traces,
            store.insert_spans,
            trace_service_pb2.ExportTraceServiceResponse(),
        )

    @router.post("/v1/logs")
    async def otlp_logs(request: Request) -> Response:
        return await _otlp_export(
            request, decode_logs, store.insert_logs, logs_service_pb2.ExportLogsServiceResponse()
        )

    @router.post("/v1/metrics")
    async def otlp_metrics(request: Request) -> Response:
        """Counted, not stored as series: Prometheus is the metrics backend."""
        return await _otlp_export(
            request,
            decode_metrics,
            store.insert_metric_points,
            metrics_service_pb2.ExportMetricsServiceResponse(),
        )

    return router
