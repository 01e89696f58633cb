"""The real OpenTelemetry SDK exporters (OTLP/HTTP protobuf) against the real app."""

from __future__ import annotations

import logging
import time

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from .conftest import Capture

RESOURCE = Resource.create(
    {"service.name": "checkout", "service.version": "1.2.3", "region": "eu-west-1"}
)


def _tracer_provider(capture: Capture, compression: Compression | None = None) -> TracerProvider:
    provider = TracerProvider(resource=RESOURCE)
    exporter = OTLPSpanExporter(
        endpoint=f"{capture.url}/v1/traces", timeout=5, compression=compression
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _logger_provider(capture: Capture) -> LoggerProvider:
    provider = LoggerProvider(resource=RESOURCE)
    exporter = OTLPLogExporter(endpoint=f"{capture.url}/v1/logs", timeout=5)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    return provider


def test_sdk_spans_parent_child_attributes_status(capture: Capture) -> None:
    provider = _tracer_provider(capture)
    tracer = provider.get_tracer("test.capture")
    before = time.time()
    with tracer.start_as_current_span("GET /v1/assignments/{id}", kind=SpanKind.SERVER) as parent:
        parent.set_attribute("http.route", "/v1/assignments/{id}")
        parent.set_attribute("http.status_code", 500)
        parent.set_attribute("retry", True)
        parent.set_attribute("ratio", 0.25)
        parent.set_attribute("tags", ["a", "b"])
        with tracer.start_as_current_span("db.query", kind=SpanKind.CLIENT) as child:
            child.set_attribute("db.system", "sqlite")
            child.set_status(Status(StatusCode.OK))
        parent.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()
    after = time.time()

    trace_id = format(parent.get_span_context().trace_id, "032x")
    r = capture.get(f"/api/traces/{trace_id}")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["trace_id"] == trace_id
    by_name = {s["name"]: s for s in doc["spans"]}
    assert set(by_name) == {"GET /v1/assignments/{id}", "db.query"}
    root, db = by_name["GET /v1/assignments/{id}"], by_name["db.query"]

    assert root["span_id"] == format(parent.get_span_context().span_id, "016x")
    assert root["parent_span_id"] is None
    assert db["span_id"] == format(child.get_span_context().span_id, "016x")
    assert db["parent_span_id"] == root["span_id"]
    assert db["trace_id"] == root["trace_id"] == trace_id
    # spans come back ordered by start time
    assert [s["name"] for s in doc["spans"]] == ["GET /v1/assignments/{id}", "db.query"]

    assert root["service"] == db["service"] == "checkout"
    assert root["kind"] == "SERVER" and db["kind"] == "CLIENT"
    assert root["status_code"] == "ERROR" and db["status_code"] == "OK"
    assert root["attributes"] == {
        "http.route": "/v1/assignments/{id}",
        "http.status_code": 500,
        "retry": True,
        "ratio": 0.25,
        "tags": ["a", "b"],
    }
    assert db["attributes"] == {"db.system": "sqlite"}
    assert root["resource"]["region"] == "eu-west-1"
    assert root["resource"]["service.version"] == "1.2.3"
    assert root["resource"]["telemetry.sdk.language"] == "python"
    assert before - 1 <= root["start_time"] <= db["start_time"] <= db["end_time"]
    assert db["end_time"] <= root["end_time"] <= after + 1
    # the receiver's own arrival record: after the span ended, before the export returned
    assert root["end_time"] <= root["received_at"] <= after
    assert set(root) == {
        "trace_id",
        "span_id",
        "parent_span_id",
        "service",
        "name",
        "kind",
        "start_time",
        "end_time",
        "status_code",
        "attributes",
        "resource",
        "received_at",
    }


@pytest.mark.parametrize("compression", [Compression.Gzip, Compression.Deflate])
def test_sdk_spans_compressed(capture: Capture, compression: Compression) -> None:
    provider = _tracer_provider(capture, compression)
    tracer = provider.get_tracer("test.capture")
    with tracer.start_as_current_span("compressed", attributes={"enc": compression.value}) as span:
        pass
    provider.shutdown()
    trace_id = format(span.get_span_context().trace_id, "032x")
    spans = capture.get(f"/api/traces/{trace_id}").json()["spans"]
    assert [(s["name"], s["attributes"]) for s in spans] == [
        ("compressed", {"enc": compression.value})
    ]


def test_sdk_logs_carry_trace_context(capture: Capture) -> None:
    tracer_provider = _tracer_provider(capture)
    logger_provider = _logger_provider(capture)
    tracer = tracer_provider.get_tracer("test.capture")
    otel_logger = logger_provider.get_logger("test.capture")
    handler = LoggingHandler(level=logging.INFO, logger_provider=logger_provider)
    std_logger = logging.getLogger("test.capture.std")
    std_logger.setLevel(logging.INFO)
    std_logger.propagate = False
    std_logger.addHandler(handler)
    try:
        with tracer.start_as_current_span("handle") as span:
            otel_logger.emit(
                severity_number=SeverityNumber.WARN,
                severity_text="WARN",
                body="assignment 42 created",
                attributes={"assignment.id": 42, "region": "eu-west-1"},
            )
            std_logger.error("database down: %s", "timeout")
        otel_logger.emit(severity_number=SeverityNumber.INFO, severity_text="INFO", body="no ctx")
    finally:
        std_logger.removeHandler(handler)
        logger_provider.shutdown()
        tracer_provider.shutdown()

    trace_id = format(span.get_span_context().trace_id, "032x")
    span_id = format(span.get_span_context().span_id, "016x")
    logs = capture.logs(trace_id=trace_id)
    assert [rec["body"] for rec in logs] == ["assignment 42 created", "database down: timeout"]
    warn, error = logs
    for rec in logs:
        assert rec["trace_id"] == trace_id
        assert rec["span_id"] == span_id
        assert rec["service"] == "checkout"
        assert rec["resource"]["region"] == "eu-west-1"
        assert abs(rec["time"] - time.time()) < 60
        assert rec["time"] <= rec["received_at"] <= time.time()
    assert (warn["severity_text"], warn["severity_number"]) == ("WARN", 13)
    assert warn["attributes"] == {"assignment.id": 42, "region": "eu-west-1"}
    assert (error["severity_text"], error["severity_number"]) == ("ERROR", 17)

    no_ctx = capture.logs(text="no ctx")
    assert len(no_ctx) == 1
    assert no_ctx[0]["trace_id"] is None and no_ctx[0]["span_id"] is None
    assert [rec["body"] for rec in capture.logs(severity="error")] == ["database down: timeout"]
    assert len(capture.logs()) == 3
    # the span itself arrived too
    assert [s["name"] for s in capture.get(f"/api/traces/{trace_id}").json()["spans"]] == ["handle"]
