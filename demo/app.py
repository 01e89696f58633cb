"""The demo service: create_app wires settings, telemetry, storage and routes together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CONTENT_TYPE_LATEST

from signalcheck.demo.admin import admin_router
from signalcheck.demo.assignments import assignments_router
from signalcheck.demo.auth import TokenIssuer, token_router
from signalcheck.demo.faults import Faults
from signalcheck.demo.logs import build_logger_provider, configure_logging
from signalcheck.demo.metrics import DemoMetrics
from signalcheck.demo.middleware import TelemetryMiddleware
from signalcheck.demo.notify import Notifier
from signalcheck.demo.settings import Settings
from signalcheck.demo.store import AssignmentStore, DatabaseUnavailable
from signalcheck.demo.tracing import SERVICE_NAME, build_resource, build_tracer_provider

logger = logging.getLogger("demo.app")

RUM_APP_NAME = "demo-web"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def create_app(
    settings: Settings,
    *,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
) -> FastAPI:
    """Build the service. Exporters given here replace OTLP export (tests use in-memory ones).

    The app owns its telemetry providers and flushes them on shutdown; they are also on
    `app.state.tracer_provider` and `app.state.logger_provider`.
    """
    resource = build_resource(settings)
    tracer_provider = build_tracer_provider(settings, resource, span_exporter)
    logger_provider = build_logger_provider(settings, resource, log_exporter)
    configure_logging(settings, SERVICE_NAME, logger_provider)
    tracer = tracer_provider.get_tracer("demo", settings.service_version)

    faults = Faults()
    metrics = DemoMetrics(settings.region, settings.service_version, settings.service_revision)
    store = AssignmentStore(settings.db_path, tracer, is_down=lambda: faults.state.dependency_down)
    metrics.watch_dependency("database", store.is_up)
    metrics.watch_readiness(lambda: faults.state.ready)
    issuer = TokenIssuer(settings.client_secret)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        logger.info("demo service started", extra={"version": settings.service_version})
        yield
        logger.info("demo service stopping")
        store.close()
        tracer_provider.shutdown()
        logger_provider.shutdown()

    app = FastAPI(title="demo assignments API", version=settings.service_version, lifespan=lifespan)
    app.state.tracer_provider = tracer_provider
    app.state.logger_provider = logger_provider
    app.add_middleware(TelemetryMiddleware, tracer=tracer, metrics=metrics)

    @app.exception_handler(DatabaseUnavailable)
    async def database_unavailable(_: Request, exc: DatabaseUnavailable) -> JSONResponse:
        logger.error("database unavailable", extra={"error": str(exc)})
        return JSONResponse({"detail": "database unavailable"}, status_code=503)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    def readiness_problem() -> str | None:
        if not faults.state.ready:
            return "marked not ready by fault injection"
        try:
            store.ping()
        except DatabaseUnavailable as exc:
            return f"database unavailable: {exc}"
        return None

    @app.get("/health/ready")
    async def ready() -> JSONResponse:
        reason = readiness_problem()
        if reason is not None:
            logger.warning("not ready", extra={"reason": reason})
            return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready", "checks": {"database": "up"}})

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        context = {
            "region": settings.region,
            "version": settings.service_version,
            "rum_sdk_url": settings.rum_sdk_url,
            "rum_api_key": settings.rum_api_key or "",
            "rum_app_name": RUM_APP_NAME,
        }
        return TEMPLATES.TemplateResponse(request, "index.html", context)

    app.include_router(token_router(issuer, faults))
    app.include_router(assignments_router(store, Notifier(tracer), metrics, issuer, faults))
    app.include_router(admin_router(settings.admin_token, faults))
    return app
