"""FastAPI app of the capture receiver: OTLP/HTTP traces and logs (stored) and metrics
(counted: data points per service and metric name), Alertmanager webhook, and the read API the
validators use.

Write endpoints decode the whole body before storing anything and store it in one
transaction: a malformed body answers 400 with a reason and changes nothing. An unsupported
Content-Type or Content-Encoding answers 415, a body above the limit 413.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from signalcheck.capture.otlp import DEFAULT_MAX_BODY_BYTES, CaptureInputError
from signalcheck.capture.otlp_api import otlp_router
from signalcheck.capture.query_api import query_router
from signalcheck.capture.store import CaptureStore
from signalcheck.capture.webhook_api import webhook_router

__all__ = ["create_app"]


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

    app.include_router(otlp_router(store, max_body_bytes))
    app.include_router(webhook_router(store, max_body_bytes))
    app.include_router(query_router(store))
    return app
