"""The RUM ingest service: create_app wires settings, store, metrics and routes together."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ValidationError
from starlette.middleware.cors import CORSMiddleware

from signalcheck.rum_ingest.answers import Accepted, FaroAccepted, Readiness
from signalcheck.rum_ingest.direct_route import DirectRoute
from signalcheck.rum_ingest.edge import (
    IngestKey,
    ReadKey,
    Rejected,
    authenticate,
    check_rate,
    invalid,
    parse,
    read_body,
    reasons,
)
from signalcheck.rum_ingest.faro import FARO_PAYLOAD, to_events
from signalcheck.rum_ingest.keys import Role
from signalcheck.rum_ingest.metrics import RumMetrics
from signalcheck.rum_ingest.models import BATCH, EVENTS, Batch
from signalcheck.rum_ingest.openapi import READ, SEND, document_bodies, refusals
from signalcheck.rum_ingest.ratelimit import RateLimiter
from signalcheck.rum_ingest.routes import RouteFolder
from signalcheck.rum_ingest.rows import to_rows
from signalcheck.rum_ingest.settings import Settings
from signalcheck.rum_ingest.store import EventStore, StoreBusy, analytics, sessions

logger = logging.getLogger("rum_ingest")

SDK_PATH = Path(__file__).parent / "static" / "sdk.js"
READY_TIMEOUT = 2.0
RETRY_BUSY = "1"  # seconds, for a batch refused because the store is behind
DAY = 86_400.0
PUBLISH_INTERVAL = 1.0  # seconds between a worker's pending-rows figures for the others' scrapes

Window = Annotated[float, Query(gt=0, le=90 * DAY, description="seconds back from `until`")]
Until = Annotated[float | None, Query(ge=0, description="unix seconds; default now")]
Limit = Annotated[int, Query(ge=1, le=1000)]
SessionId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
PathKey = Annotated[
    str,
    PathParam(
        pattern=r"^[A-Za-z0-9_-]{16,128}$",
        description="the app's ingest key, for a Faro `url` that carries it (`/collect/KEY`)",
    ),
]
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

    async def store_batch(batch: Batch, app_name: str, session_identities: int = 0) -> int:
        """Store the batch; returns how many events it held. `session_identities`: the
        identity attributes of its sender's session, dropped before."""
        rows, identities = to_rows(batch, app_name, time.time(), routes)
        if rows:
            try:
                await store.add(rows)
            except StoreBusy as exc:
                reason = f"event store is behind ({exc}); retry in {RETRY_BUSY}s"
                raise Rejected(503, reason, {"Retry-After": RETRY_BUSY}) from None
            except Exception as exc:
                logger.error("storing a batch failed: %s: %s", type(exc).__name__, exc)
                raise Rejected(503, "event store unavailable", {"Retry-After": "1"}) from None
        metrics.observe(rows)
        if session_identities:
            identities["session"] += session_identities
        if identities:
            metrics.drop_identities(identities)
        metrics.answered(202)
        return len(rows)

    async def ingest(request: Request, key: IngestKey) -> JSONResponse:
        app_name = authenticate(key, settings.api_keys, Role.INGEST)
        check_rate(limiter, app_name)
        accepted = await store_batch(parse(BATCH, await read_body(request)), app_name)
        return JSONResponse(Accepted(accepted=accepted).model_dump(), status_code=202)

    app.router.add_api_route(
        "/v1/events",
        ingest,
        methods=["POST"],
        status_code=202,
        summary="Ingest a batch of RUM events",
        responses={202: {"model": Accepted, "description": "Stored"}, **refusals(*SEND)},
        route_class_override=DirectRoute,  # the hot path: no dependency resolution
    )

    faro_responses = {
        202: {"model": FaroAccepted, "description": "Stored, or counted as dropped"},
        **refusals(*SEND),
    }

    async def collect(request: Request, key: str | None) -> JSONResponse:
        app_name = authenticate(key, settings.api_keys, Role.INGEST)
        check_rate(limiter, app_name)
        payload = parse(FARO_PAYLOAD, await read_body(request))
        items = to_events(payload)
        try:
            events = EVENTS.validate_python(items.events)
        except ValidationError as exc:
            raise invalid(exc) from None
        batch: Batch = {"events": events, "app": {"version": payload.meta.app.version}}
        accepted = await store_batch(batch, app_name, items.session_identities)
        metrics.drop(items.dropped)
        answer = FaroAccepted.of(accepted, items.dropped)
        return JSONResponse(answer.model_dump(), status_code=202)

    @app.post(
        "/collect",
        status_code=202,
        summary="Grafana Faro Web SDK payloads",
        responses=faro_responses,
    )
    async def faro_collect(request: Request, key: IngestKey) -> JSONResponse:
        return await collect(request, key)

    @app.post(
        "/collect/{api_key}",
        status_code=202,
        summary="Grafana Faro Web SDK payloads, the ingest key in the path",
        responses=faro_responses,
    )
    async def faro_collect_keyed(request: Request, api_key: PathKey) -> JSONResponse:
        return await collect(request, api_key)

    @app.get(
        "/v1/sdk.js",
        summary="The browser SDK",
        response_class=Response,
        responses={200: {"content": {"text/javascript": {"schema": {"type": "string"}}}}},
    )
    async def sdk_js() -> Response:
        return Response(
            sdk,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    read_refusals = refusals(*READ)

    def time_window(
        key: str | None, window: float, until: float | None
    ) -> tuple[str, float, float]:
        app_name = authenticate(key, settings.api_keys, Role.READ)
        end = time.time() if until is None else until
        return app_name, end - window, end

    @app.get(
        "/v1/analytics/page-loads",
        summary="Average and p95 page load time per page",
        responses=read_refusals,
    )
    async def page_loads(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.PageLoadStats]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.page_loads(store.database, app_name, since, end, limit)

    @app.get(
        "/v1/analytics/slowest-endpoints",
        summary="API endpoints by average duration",
        responses=read_refusals,
    )
    async def slowest_endpoints(
        key: ReadKey, window: Window = 3600.0, until: Until = None, limit: Limit = 10
    ) -> list[analytics.EndpointStats]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.slowest_endpoints(store.database, app_name, since, end, limit)

    @app.get(
        "/v1/analytics/errors",
        summary="Errors and affected sessions per page",
        responses=read_refusals,
    )
    async def errors(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.PageErrors]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.errors_by_page(store.database, app_name, since, end, limit)

    @app.get(
        "/v1/analytics/web-vitals",
        summary="Samples, p75 and share rated good per vital",
        responses=read_refusals,
    )
    async def web_vitals(
        key: ReadKey, window: Window = DAY, until: Until = None
    ) -> list[analytics.VitalStats]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.web_vitals(store.database, app_name, since, end)

    @app.get(
        "/v1/analytics/logs",
        summary="The app's logs and their sessions per level",
        responses=read_refusals,
    )
    async def logs(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.LogCounts]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.logs_by_level(store.database, app_name, since, end, limit)

    @app.get(
        "/v1/analytics/events",
        summary="The app's own events and their sessions per name",
        responses=read_refusals,
    )
    async def custom_events(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.EventCounts]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.custom_events(store.database, app_name, since, end, limit)

    @app.get(
        "/v1/analytics/measurements",
        summary="Samples, mean, min, max and p75 per custom measurement",
        responses=read_refusals,
    )
    async def measurements(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.MeasurementStats]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.measurements(store.database, app_name, since, end, limit)

    @app.get(
        "/v1/sessions/{session_id}/events",
        summary="One session's events, as received",
        responses=read_refusals,
    )
    async def session_events(key: ReadKey, session_id: SessionId) -> list[sessions.SessionEvent]:
        app_name = authenticate(key, settings.api_keys, Role.READ)
        return await sessions.session_events(store.database, app_name, session_id)

    @app.get("/health", summary="The process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
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

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    document_bodies(
        app, {"/v1/events": BATCH, "/collect": FARO_PAYLOAD, "/collect/{api_key}": FARO_PAYLOAD}
    )
    return app
