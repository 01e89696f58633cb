"""What operators and Prometheus ask the RUM ingest: liveness, readiness and metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from signalcheck.rum_ingest.answers import Readiness
from signalcheck.rum_ingest.metrics import RumMetrics
from signalcheck.rum_ingest.store import EventStore

READY_TIMEOUT = 2.0


def operations_router(store: EventStore, metrics: RumMetrics) -> APIRouter:
    """GET /health, /health/ready and /metrics."""
    router = APIRouter()

    @router.get("/health", summary="The process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        summary="Whether the store answers",
        responses={
            200: {"model": Readiness, "description": "The store answers"},
            503: {"model": Readiness, "description": "The store does not answer: why"},
        },
    )
    async def ready() -> JSONResponse:
        try:
            await asyncio.wait_for(store.ping(), READY_TIMEOUT)
        except Exception as exc:
            reason = f"event store unreachable: {type(exc).__name__}: {exc}"
            return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return router
