"""The demo service with one telemetry defect, for the mutant and validation tests only.

`python -m tests.mutants.broken_demo` runs `python -m signalcheck.demo` after patching in the
defect named by $MUTANT; demo/ itself stays correct. Each defect is one change a developer could
make:

- `traceparent`: the service ignores incoming trace context (every request starts a new trace).
- `log_trace_ids`: log records are emitted outside any trace context (no trace or span id).
- `raw_route`: the `route` label of http_requests_total carries the raw path (ids included).
- `uncounted_item_route`: /v1/assignments/{assignment_id} joins the routes http_requests_total
  leaves out (like /health): its GETs and DELETEs are answered but never counted.
- `uncounted_assignments`: demo_assignments_created_total is never incremented.
- `dependency_gauge_zero`: demo_dependency_up reports 0 although the database answers.
- `dependency_gauge_nan`: demo_dependency_up reports NaN (a 0/0 share of dependency checks).
- `insert_span_dropped`: the db.insert_assignment span is no longer created.
- `spans_wrong_region`: spans carry another region's `cloud.region` (logs keep the right one).
- `error_log_per_request`: every request also logs an ERROR record.
- `traces_endpoint_dead`: spans are exported to $MUTANT_DEAD_ENDPOINT (nothing listens there).
- `logs_endpoint_dead`: log records are exported to $MUTANT_DEAD_ENDPOINT.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from signalcheck.demo import __main__ as demo_main
from signalcheck.demo import app, logs, middleware, tracing
from signalcheck.demo.metrics import DemoMetrics
from signalcheck.demo.settings import REGIONS, Settings
from signalcheck.demo.store import AssignmentStore

ASSIGNMENT_ROUTE = "/v1/assignments/{assignment_id}"


class _IgnoreIncomingContext:
    def extract(self, carrier: object, context: Context | None = None, getter: object = None):
        return Context()


_original_emit = logs.OtlpLogHandler.emit
_original_format = logs.JsonFormatter.format


def _emit_without_context(handler: logs.OtlpLogHandler, record: logging.LogRecord) -> None:
    token = otel_context.attach(Context())
    try:
        _original_emit(handler, record)
    finally:
        otel_context.detach(token)


def _format_without_context(formatter: logs.JsonFormatter, record: logging.LogRecord) -> str:
    token = otel_context.attach(Context())
    try:
        return _original_format(formatter, record)
    finally:
        otel_context.detach(token)


_original_is_counted = middleware.is_counted
_original_observe = DemoMetrics.observe_request
_last_path = [""]
"""The path of the request being counted: is_counted sees it right before observe_request."""


def _is_counted_keeping_path(path: str, route: str | None) -> bool:
    _last_path[0] = path
    return _original_is_counted(path, route)


def _observe_raw_path(
    metrics: DemoMetrics, method: str, route: str, status: int, seconds: float
) -> None:
    _original_observe(metrics, method, _last_path[0], status, seconds)


def _watch_dependency_down(metrics: DemoMetrics, name: str, is_up: Callable[[], bool]) -> None:
    metrics.dependency_up.labels(dependency=name, region=metrics.region).set(0)


def _watch_dependency_nan(metrics: DemoMetrics, name: str, is_up: Callable[[], bool]) -> None:
    """The gauge as the share of dependency checks that succeeded, of none counted: 0/0."""
    metrics.dependency_up.labels(dependency=name, region=metrics.region).set(math.nan)


_original_span = AssignmentStore._span


@contextmanager
def _span_unless_insert(
    store: AssignmentStore, name: str, operation: str, table: str | None = "assignments"
) -> Iterator[None]:
    if name == "db.insert_assignment":
        yield
        return
    with _original_span(store, name, operation, table):
        yield


_original_tracer_provider = tracing.build_tracer_provider


def _tracer_provider_elsewhere(
    settings: Settings, resource: Resource, exporter: SpanExporter | None = None
) -> TracerProvider:
    other = next(region for region in REGIONS if region != settings.region)
    return _original_tracer_provider(
        settings, resource.merge(Resource({"cloud.region": other})), exporter
    )


def _observe_and_log_error(
    metrics: DemoMetrics, method: str, route: str, status: int, seconds: float
) -> None:
    _original_observe(metrics, method, route, status, seconds)
    logging.getLogger("demo.mutant").error("request handled", extra={"route": route})


def _dead(path: str) -> str:
    return f"{os.environ['MUTANT_DEAD_ENDPOINT'].rstrip('/')}{path}"


def _span_exporter_to_dead_endpoint(endpoint: str) -> OTLPSpanExporter:
    return OTLPSpanExporter(endpoint=_dead("/v1/traces"))


def _log_exporter_to_dead_endpoint(endpoint: str) -> OTLPLogExporter:
    return OTLPLogExporter(endpoint=_dead("/v1/logs"))


Patch = tuple[object, str, object]
"""(owner, attribute, replacement): one attribute of the demo replaced before it starts."""

DEFECTS: dict[str, list[Patch]] = {
    "traceparent": [(middleware, "_propagator", _IgnoreIncomingContext())],
    "log_trace_ids": [
        (logs.OtlpLogHandler, "emit", _emit_without_context),
        (logs.JsonFormatter, "format", _format_without_context),
    ],
    "raw_route": [
        (middleware, "is_counted", _is_counted_keeping_path),
        (DemoMetrics, "observe_request", _observe_raw_path),
    ],
    "uncounted_item_route": [
        (middleware, "UNCOUNTED_ROUTES", middleware.UNCOUNTED_ROUTES | {ASSIGNMENT_ROUTE})
    ],
    "uncounted_assignments": [(DemoMetrics, "count_assignment_created", lambda metrics: None)],
    "dependency_gauge_zero": [(DemoMetrics, "watch_dependency", _watch_dependency_down)],
    "dependency_gauge_nan": [(DemoMetrics, "watch_dependency", _watch_dependency_nan)],
    "insert_span_dropped": [(AssignmentStore, "_span", _span_unless_insert)],
    "spans_wrong_region": [(app, "build_tracer_provider", _tracer_provider_elsewhere)],
    "error_log_per_request": [(DemoMetrics, "observe_request", _observe_and_log_error)],
    "traces_endpoint_dead": [(tracing, "OTLPSpanExporter", _span_exporter_to_dead_endpoint)],
    "logs_endpoint_dead": [(logs, "OTLPLogExporter", _log_exporter_to_dead_endpoint)],
}

if __name__ == "__main__":
    for owner, attribute, replacement in DEFECTS[os.environ["MUTANT"]]:
        setattr(owner, attribute, replacement)
    sys.exit(demo_main.main())
