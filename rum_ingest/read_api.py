"""The read side of the RUM ingest: analytics of a time window and one session's events,
for the app's read key."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from signalcheck.rum_ingest.edge import ReadKey, authenticate
from signalcheck.rum_ingest.keys import Role
from signalcheck.rum_ingest.openapi import READ, refusals
from signalcheck.rum_ingest.settings import Settings
from signalcheck.rum_ingest.store import EventStore, analytics, sessions

DAY = 86_400.0
Window = Annotated[float, Query(gt=0, le=90 * DAY, description="seconds back from `until`")]
Until = Annotated[float | None, Query(ge=0, description="unix seconds; default now")]
Limit = Annotated[int, Query(ge=1, le=1000)]
SessionId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


def read_router(settings: Settings, store: EventStore) -> APIRouter:
    """GET /v1/analytics/... and /v1/sessions/{session_id}/events."""
    router = APIRouter()
    read_refusals = refusals(*READ)

    def time_window(
        key: str | None, window: float, until: float | None
    ) -> tuple[str, float, float]:
        app_name = authenticate(key, settings.api_keys, Role.READ)
        end = time.time() if until is None else until
        return app_name, end - window, end

    @router.get(
        "/v1/analytics/page-loads",
        summary="Average and p95 page load time per page",
        responses=read_refusals,
    )
    async def page_loads(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.PageLoadStats]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.page_loads(store.database, app_name, since, end, limit)

    @router.get(
        "/v1/analytics/slowest-endpoints",
        summary="API endpoints by average duration",
        responses=read_refusals,
    )
    async def slowest_endpoints(
        key: ReadKey, window: Window = 3600.0, until: Until = None, limit: Limit = 10
    ) -> list[analytics.EndpointStats]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.slowest_endpoints(store.database, app_name, since, end, limit)

    @router.get(
        "/v1/analytics/errors",
        summary="Errors and affected sessions per page",
        responses=read_refusals,
    )
    async def errors(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.PageErrors]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.errors_by_page(store.database, app_name, since, end, limit)

    @router.get(
        "/v1/analytics/web-vitals",
        summary="Samples, p75 and share rated good per vital",
        responses=read_refusals,
    )
    async def web_vitals(
        key: ReadKey, window: Window = DAY, until: Until = None
    ) -> list[analytics.VitalStats]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.web_vitals(store.database, app_name, since, end)

    @router.get(
        "/v1/analytics/logs",
        summary="The app's logs and their sessions per level",
        responses=read_refusals,
    )
    async def logs(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.LogCounts]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.logs_by_level(store.database, app_name, since, end, limit)

    @router.get(
        "/v1/analytics/events",
        summary="The app's own events and their sessions per name",
        responses=read_refusals,
    )
    async def custom_events(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.EventCounts]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.custom_events(store.database, app_name, since, end, limit)

    @router.get(
        "/v1/analytics/measurements",
        summary="Samples, mean, min, max and p75 per custom measurement",
        responses=read_refusals,
    )
    async def measurements(
        key: ReadKey, window: Window = DAY, until: Until = None, limit: Limit = 50
    ) -> list[analytics.MeasurementStats]:
        app_name, since, end = time_window(key, window, until)
        return await analytics.measurements(store.database, app_name, since, end, limit)

    @router.get(
        "/v1/sessions/{session_id}/events",
        summary="One session's events, as received",
        responses=read_refusals,
    )
    async def session_events(key: ReadKey, session_id: SessionId) -> list[sessions.SessionEvent]:
        app_name = authenticate(key, settings.api_keys, Role.READ)
        return await sessions.session_events(store.database, app_name, session_id)

    return router
