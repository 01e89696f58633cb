"""The sending side of the RUM ingest: event batches (the SDK's and Grafana Faro's) and the
browser SDK itself."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from signalcheck.rum_ingest.answers import Accepted, FaroAccepted
from signalcheck.rum_ingest.direct_route import DirectRoute
from signalcheck.rum_ingest.edge import (
    IngestKey,
    Rejected,
    authenticate,
    check_rate,
    invalid,
    parse,
    read_body,
)
from signalcheck.rum_ingest.faro import FARO_PAYLOAD, to_events
from signalcheck.rum_ingest.keys import Role
from signalcheck.rum_ingest.metrics import RumMetrics
from signalcheck.rum_ingest.models import BATCH, EVENTS, Batch
from signalcheck.rum_ingest.openapi import SEND, refusals
from signalcheck.rum_ingest.ratelimit import RateLimiter
from signalcheck.rum_ingest.routes import RouteFolder
from signalcheck.rum_ingest.rows import to_rows
from signalcheck.rum_ingest.settings import Settings
from signalcheck.rum_ingest.store import EventStore, StoreBusy

logger = logging.getLogger("rum_ingest")

RETRY_BUSY = "1"  # seconds, for a batch refused because the store is behind
PathKey = Annotated[
    str,
    PathParam(
        pattern=r"^[A-Za-z0-9_-]{16,128}$",
        description="the app's ingest key, for a Faro `url` that carries it (`/collect/KEY`)",
    ),
]


def ingest_router(
    settings: Settings,
    store: EventStore,
    metrics: RumMetrics,
    limiter: RateLimiter,
    routes: RouteFolder,
    sdk: bytes,
) -> APIRouter:
    """POST /v1/events, /collect and /collect/{api_key}, and GET /v1/sdk.js (`sdk`)."""
    router = APIRouter()

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

    router.add_api_route(
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

    @router.post(
        "/collect",
        status_code=202,
        summary="Grafana Faro Web SDK payloads",
        responses=faro_responses,
    )
    async def faro_collect(request: Request, key: IngestKey) -> JSONResponse:
        return await collect(request, key)

    @router.post(
        "/collect/{api_key}",
        status_code=202,
        summary="Grafana Faro Web SDK payloads, the ingest key in the path",
        responses=faro_responses,
    )
    async def faro_collect_keyed(request: Request, api_key: PathKey) -> JSONResponse:
        return await collect(request, api_key)

    @router.get(
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

    return router
