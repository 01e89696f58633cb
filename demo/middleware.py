"""ASGI middleware: a SERVER span, the request metrics and an access log line per request."""

from __future__ import annotations

import logging
import time

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from signalcheck.demo.metrics import DemoMetrics

logger = logging.getLogger("demo.access")

UNMATCHED_ROUTE = "other"
UNTRACED_PATHS = frozenset({"/metrics"})
UNCOUNTED_ROUTES = frozenset({"/metrics", "/health", "/health/ready"})
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_propagator = TraceContextTextMapPropagator()


def route_template(scope: Scope) -> str | None:
    """The path template of the route that handled the request, e.g. /v1/assignments/{id}."""
    route = scope.get("route")
    return getattr(route, "path", None)


def is_counted(path: str, route: str | None) -> bool:
    """Whether a request belongs in http_requests_total (health, metrics and admin do not)."""
    return route not in UNCOUNTED_ROUTES and not (path == "/admin" or path.startswith("/admin/"))


class TelemetryMiddleware:
    """Traces, counts, times and logs every HTTP request but the metrics scrape.

    The span continues the caller's W3C trace context; its name and the metric labels use
    the route template, so raw ids never reach a label. 5xx responses mark the span ERROR.
    """

    def __init__(self, app: ASGIApp, tracer: Tracer, metrics: DemoMetrics) -> None:
        self.app = app
        self.tracer = tracer
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return

        method: str = scope["method"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        status = 500

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        with self.tracer.start_as_current_span(
            method,
            context=_propagator.extract(headers),
            kind=SpanKind.SERVER,
            attributes=_request_attributes(scope, headers),
        ) as span:
            try:
                await self.app(scope, receive, send_and_record_status)
            except Exception:
                status = 500
                logger.exception("unhandled error")
                raise
            finally:
                duration = time.perf_counter() - started
                route = route_template(scope)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_attribute("error.type", str(status))
                    span.set_status(Status(StatusCode.ERROR))
                label = route or UNMATCHED_ROUTE
                if is_counted(scope["path"], route):
                    method_label = method if method in KNOWN_METHODS else "other"
                    self.metrics.observe_request(method_label, label, status, duration)
                logger.log(
                    logging.ERROR if status >= 500 else logging.INFO,
                    "request completed",
                    extra={
                        "method": method,
                        "route": label,
                        "status": status,
                        "duration_ms": round(duration * 1000, 3),
                    },
                )


def _request_attributes(scope: Scope, headers: dict[str, str]) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "http.request.method": scope["method"],
        "url.path": scope["path"],
        "url.scheme": scope.get("scheme", "http"),
    }
    if scope.get("server"):
        host, port = scope["server"]
        attributes["server.address"] = host
        if port is not None:
            attributes["server.port"] = port
    if scope.get("client"):
        attributes["client.address"] = scope["client"][0]
    if "user-agent" in headers:
        attributes["user_agent.original"] = headers["user-agent"]
    return attributes
