"""The RUM ingest service: create_app wires settings, store, metrics and the routers
(ingest, read, operations) together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware

from signalcheck.rum_ingest.edge import Rejected, reasons
from signalcheck.rum_ingest.faro import FARO_PAYLOAD
from signalcheck.rum_ingest.ingest_api import ingest_router
from signalcheck.rum_ingest.metrics import RumMetrics
from signalcheck.rum_ingest.models import BATCH
from signalcheck.rum_ingest.openapi import document_bodies
from signalcheck.rum_ingest.operations_api import operations_router
from signalcheck.rum_ingest.ratelimit import RateLimiter
from signalcheck.rum_ingest.read_api import read_router
from signalcheck.rum_ingest.routes import RouteFolder
from signalcheck.rum_ingest.settings import Settings
from signalcheck.rum_ingest.store import EventStore

SDK_PATH = Path(__file__).parent / "static" / "sdk.js"
PUBLISH_INTERVAL = 1.0  # seconds between a worker's pending-rows figures for the others' scrapes
FARO_HEADERS = ("Content-Encoding", "Idempotency-Key", "X-Faro-Session-Id")
"""Headers the Faro Web SDK 2.x fetch transport sends besides Content-Type and X-API-Key
(faro-web-sdk packages/web-sdk/src/transports/fetch/transport.ts, `prepareRequest`)."""


def allow_cross_origin(app: FastAPI, origins: tuple[str, ...]) -> None:
    """CORS for the configured origins: browsers send beacons from the sites they load."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-API-Key", *FARO_HEADERS],
        expose_headers=["Retry-After"],
        max_age=600,
    )


def create_app(settings: Settings, shared_metrics: Path | None = None) -> FastAPI:
    """Build the service; the store is opened (schema migrated) when the app starts. With
    `shared_metrics` (see `metrics.shared_between_processes`) /metrics reports the sums of every
    worker process."""
    store = EventStore(settings.database_url, settings.max_pending_rows)
    metrics = RumMetrics(settings.label_cap, shared_metrics)
    metrics.watch_pending(store)
    limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
    routes = RouteFolder(settings.route_templates)
    sdk = SDK_PATH.read_bytes()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await store.open()
        publishing = None
        if shared_metrics is not None:
            publishing = asyncio.create_task(metrics.keep_publishing_pending(PUBLISH_INTERVAL))
        try:
            yield
        finally:
            if publishing is not None:
                publishing.cancel()
            await store.close()

    app = FastAPI(title="signalcheck RUM ingest", lifespan=lifespan)
    app.state.store = store
    app.state.metrics = metrics
    allow_cross_origin(app, settings.allowed_origins)

    @app.exception_handler(Rejected)
    async def rejected(request: Request, exc: Rejected) -> JSONResponse:
        if request.method == "POST":
            metrics.answered(exc.status)
        return JSONResponse({"detail": exc.reason}, exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def unreadable_parameters(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await rejected(request, Rejected(422, reasons(exc.errors())))

    app.include_router(ingest_router(settings, store, metrics, limiter, routes, sdk))
    app.include_router(read_router(settings, store))
    app.include_router(operations_router(store, metrics))
    document_bodies(
        app, {"/v1/events": BATCH, "/collect": FARO_PAYLOAD, "/collect/{api_key}": FARO_PAYLOAD}
    )
    return app
