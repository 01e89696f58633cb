"""OTLP/HTTP metrics at `POST /v1/metrics`: counted per service and metric name (data points
received), read back at `GET /api/metrics`, answered with an ExportMetricsServiceResponse.

The real OpenTelemetry SDK exports to the running app, once configured from docs/otlp.md's
OTEL_* environment alone (as `opentelemetry-instrument` configures a zero-code instrumented
app); hand-built bodies cover OTLP JSON, gzip and malformed input.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import subprocess
import sys
import time

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from signalcheck.waiting import wait_for

from .conftest import Capture

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
NOW_NS = int(time.time() * 1e9)
NEVER_MS = 3_600_000
"""An export interval no test waits out: they export with force_flush."""


def _meter_provider(exporter: OTLPMetricExporter, resource: Resource) -> MeterProvider:
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=NEVER_MS)
    return MeterProvider(resource=resource, metric_readers=[reader])


def _record(provider: MeterProvider) -> None:
    """Two attribute sets of a counter (two data points), one of a histogram (one)."""
    meter = provider.get_meter("test.capture")
    orders = meter.create_counter("orders_total")
    orders.add(1, {"route": "/orders"})
    orders.add(2, {"route": "/orders/{id}"})
    meter.create_histogram("request_duration_seconds").record(0.25, {"route": "/orders"})


def _counted(capture: Capture, **params: str) -> dict[tuple[str, str], int]:
    return {(m["service"], m["name"]): m["points"] for m in capture.metrics(**params)}


ZERO_CODE_APP = """
import logging, sys, time
from opentelemetry import metrics, trace
from opentelemetry.sdk._configuration import _OTelSDKConfigurator

_OTelSDKConfigurator().configure()  # what opentelemetry-instrument runs, from OTEL_* alone
with trace.get_tracer("app").start_as_current_span("GET /orders") as span:
    logging.getLogger("app").warning("order placed")
    metrics.get_meter("app").create_counter("orders_total").add(1, {"route": "/orders"})
print(format(span.get_span_context().trace_id, "032x"), flush=True)
time.sleep(60)  # still running: what arrives was sent by the short export delays
"""


def test_the_documented_environment_sends_all_three_signals_while_the_app_runs(
    capture: Capture, tmp_path
) -> None:
    """The SDK configured as `opentelemetry-instrument` configures it, from docs/otlp.md's
    OTEL_* environment alone: spans, logs and metrics reach the receiver within seconds, the
    resource carrying OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES."""
    env = {
        **os.environ,
        "OTEL_SERVICE_NAME": "checkout",
        "OTEL_RESOURCE_ATTRIBUTES": "cloud.region=eu-west-1,deployment.environment=staging",
        "OTEL_EXPORTER_OTLP_ENDPOINT": capture.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
    }
    app = subprocess.Popen(
        [sys.executable, "-c", ZERO_CODE_APP],
        env=env,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "app.err").open("w"),
        text=True,
    )
    try:
        assert app.stdout is not None
        trace_id = app.stdout.readline().strip()
        assert len(trace_id) == 32, (tmp_path / "app.err").read_text()
        spans, _ = wait_for(
            lambda: capture.get(f"/api/traces/{trace_id}").json().get("spans"),
            timeout=15,
            what="the app's span",
        )
        logs, _ = wait_for(lambda: capture.logs(trace_id=trace_id), timeout=15, what="its log")
        counted, _ = wait_for(lambda: _counted(capture), timeout=15, what="its metric")
        assert app.poll() is None, "the signals arrived only at the app's exit"
    finally:
        app.terminate()
        app.wait(timeout=10)

    (span,) = spans
    assert (span["service"], span["resource"]["cloud.region"]) == ("checkout", "eu-west-1")
    (log,) = logs
    assert (log["body"], log["service"]) == ("order placed", "checkout")
    assert log["resource"]["cloud.region"] == "eu-west-1"
    assert counted[("checkout", "orders_total")] >= 1


@pytest.mark.parametrize("compression", [None, Compression.Gzip])
def test_sdk_metric_exports_are_counted_and_add_up(capture: Capture, compression) -> None:
    exporter = OTLPMetricExporter(
        endpoint=f"{capture.url}/v1/metrics", timeout=5, compression=compression
    )
    provider = _meter_provider(exporter, Resource.create({"service.name": "checkout"}))
    before = time.time()
    try:
        _record(provider)
        assert provider.force_flush(timeout_millis=10_000)
        first = _counted(capture)
        assert provider.force_flush(timeout_millis=10_000)  # cumulative: the points again
        metrics = capture.metrics()
        after = time.time()
    finally:
        provider.shutdown()  # exports once more

    assert first == {("checkout", "orders_total"): 2, ("checkout", "request_duration_seconds"): 1}
    assert [(m["name"], m["points"]) for m in metrics] == [
        ("orders_total", 4),
        ("request_duration_seconds", 2),
    ]
    for metric in metrics:
        assert before <= metric["first_received"] <= metric["last_received"] <= after
        assert set(metric) == {"service", "name", "points", "first_received", "last_received"}
    assert capture.get("/health").json()["metric_points"] == 9, "the shutdown's export too"
    assert capture.spans() == [] and capture.logs() == [], "metrics are not stored as spans/logs"


def _metrics_request() -> metrics_service_pb2.ExportMetricsServiceRequest:
    gauge = metrics_pb2.Metric(
        name="queue_depth",
        gauge=metrics_pb2.Gauge(
            data_points=[
                metrics_pb2.NumberDataPoint(time_unix_nano=NOW_NS, as_int=3),
                metrics_pb2.NumberDataPoint(time_unix_nano=NOW_NS, as_double=1.5),
            ]
        ),
    )
    resource = resource_pb2.Resource(
        attributes=[
            common_pb2.KeyValue(
                key="service.name", value=common_pb2.AnyValue(string_value="worker")
            )
        ]
    )
    return metrics_service_pb2.ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(
                resource=resource,
                scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[gauge])],
            )
        ]
    )


def test_gzip_protobuf_body_is_answered_with_an_export_response(capture: Capture) -> None:
    body = gzip.compress(_metrics_request().SerializeToString())
    r = capture.client.post(
        "/v1/metrics", content=body, headers={**PROTOBUF, "Content-Encoding": "gzip"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/x-protobuf"
    response = metrics_service_pb2.ExportMetricsServiceResponse.FromString(r.content)
    assert not response.HasField("partial_success")
    assert _counted(capture) == {("worker", "queue_depth"): 2}


def _kv(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


# An OTLP JSON metrics export following the OTLP spec's example: lowerCamelCase keys, 64-bit
# integers as decimal strings, an exemplar's ids in hex.
OTLP_JSON_METRICS = {
    "resourceMetrics": [
        {
            "resource": {"attributes": [_kv("service.name", "my.service")]},
            "scopeMetrics": [
                {
                    "scope": {"name": "my.library", "version": "1.0.0"},
                    "metrics": [
                        {
                            "name": "my.counter",
                            "unit": "1",
                            "sum": {
                                "aggregationTemporality": 1,
                                "isMonotonic": True,
                                "dataPoints": [
                                    {
                                        "asDouble": 5,
                                        "startTimeUnixNano": str(NOW_NS),
                                        "timeUnixNano": str(NOW_NS),
                                        "attributes": [_kv("my.counter.attr", "some value")],
                                        "exemplars": [
                                            {
                                                "asDouble": 1,
                                                "timeUnixNano": str(NOW_NS),
                                                "traceId": "5B8EFFF798038103D269B633813FC60C",
                                                "spanId": "EEE19B7EC3C1B174",
                                            }
                                        ],
                                    }
                                ],
                            },
                        },
                        {
                            "name": "my.gauge",
                            "gauge": {"dataPoints": [{"asInt": "10"}, {"asInt": "11"}]},
                        },
                        {
                            "name": "my.histogram",
                            "histogram": {
                                "aggregationTemporality": 1,
                                "dataPoints": [
                                    {
                                        "count": "2",
                                        "sum": 2,
                                        "bucketCounts": ["1", "1"],
                                        "explicitBounds": [1],
                                    }
                                ],
                            },
                        },
                        {
                            "name": "my.exponential.histogram",
                            "exponentialHistogram": {
                                "aggregationTemporality": 1,
                                "dataPoints": [{"count": "1", "scale": 0, "zeroCount": "1"}],
                            },
                        },
                        {
                            "name": "my.summary",
                            "summary": {"dataPoints": [{"count": "1", "sum": 3}]},
                        },
                        {"name": "my.empty", "futureField": {"ignored": True}},
                    ],
                }
            ],
        },
        {"scopeMetrics": [{"metrics": [{"name": "my.gauge", "gauge": {"dataPoints": [{}]}}]}]},
    ]
}


def test_otlp_json_metrics_of_every_kind(capture: Capture) -> None:
    r = capture.client.post("/v1/metrics", content=json.dumps(OTLP_JSON_METRICS), headers=JSON)
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert _counted(capture) == {
        ("my.service", "my.counter"): 1,
        ("my.service", "my.empty"): 0,
        ("my.service", "my.exponential.histogram"): 1,
        ("my.service", "my.gauge"): 2,
        ("my.service", "my.histogram"): 1,
        ("my.service", "my.summary"): 1,
        ("unknown_service", "my.gauge"): 1,
    }
    assert _counted(capture, service="unknown_service") == {("unknown_service", "my.gauge"): 1}
    assert _counted(capture, name="my.gauge") == {
        ("my.service", "my.gauge"): 2,
        ("unknown_service", "my.gauge"): 1,
    }
    assert capture.metrics(service="nobody") == []


def _exemplar_of(doc: dict) -> dict:
    metric = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]
    return metric["sum"]["dataPoints"][0]["exemplars"][0]


BAD_EXEMPLAR = copy.deepcopy(OTLP_JSON_METRICS)
_exemplar_of(BAD_EXEMPLAR)["traceId"] = "xyz"
BAD_METRIC = {"resourceMetrics": [{"scopeMetrics": [{"metrics": ["my.counter"]}]}]}
BAD_VALUE = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": 7, "gauge": {}}]}]}]}


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        (b"\x0a\xff\xff\xff\xff\x0f", PROTOBUF, 400, "malformed protobuf"),
        (b'{"resourceMetrics": [', JSON, 400, "malformed JSON"),
        (b'{"resourceMetrics": {"x": 1}}', JSON, 400, "must be a JSON array"),
        (json.dumps(BAD_METRIC).encode(), JSON, 400, "metrics[0] must be a JSON object"),
        (json.dumps(BAD_EXEMPLAR).encode(), JSON, 400, "traceId must be 32 hex digits"),
        (json.dumps(BAD_VALUE).encode(), JSON, 400, "invalid OTLP JSON"),
        (b"\x1f\x8b\x08\x00garbage", {**PROTOBUF, "Content-Encoding": "gzip"}, 400, "gzip"),
        (b"{}", {"Content-Type": "text/plain"}, 415, "unsupported Content-Type"),
    ],
    # the bodies carry the time of collection: ids of their own keep the test ids the same in
    # every xdist worker
    ids=[
        "protobuf", "json", "not-an-array", "not-an-object", "exemplar-trace-id", "value",
        "gzip", "text-plain",
    ],
)  # fmt: skip
def test_bad_metrics_bodies_are_rejected_with_reason_and_count_nothing(
    capture: Capture, body: bytes, headers: dict, status: int, reason: str
) -> None:
    r = capture.client.post("/v1/metrics", content=body, headers=headers)
    assert r.status_code == status, r.text
    assert reason in r.json()["detail"]
    capture.assert_empty()
