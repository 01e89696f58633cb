"""OTLP/HTTP bodies built by hand: OTLP JSON, gzip protobuf, malformed input, limits, filters."""

from __future__ import annotations

import copy
import gzip
import json
import time

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from .conftest import Capture

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}

TRACE_ID = "5B8EFFF798038103D269B633813FC60C"  # upper case on purpose: hex is case-insensitive
ROOT_ID = "EEE19B7EC3C1B174"
CHILD_ID = "eee19b7ec3c1b173"
NOW_NS = int(time.time() * 1e9)


def _kv(key: str, value: dict) -> dict:
    return {"key": key, "value": value}


# An OTLP JSON trace export following the OTLP spec's example: lowerCamelCase keys, hex ids,
# integer enums, 64-bit integers as decimal strings.
OTLP_JSON_TRACES = {
    "resourceSpans": [
        {
            "resource": {
                "attributes": [
                    _kv("service.name", {"stringValue": "my.service"}),
                    _kv("region", {"stringValue": "us-east-1"}),
                ]
            },
            "scopeSpans": [
                {
                    "scope": {"name": "my.library", "version": "1.0.0"},
                    "spans": [
                        {
                            "traceId": TRACE_ID,
                            "spanId": ROOT_ID,
                            "parentSpanId": "",
                            "name": "I'm a server span",
                            "startTimeUnixNano": str(NOW_NS),
                            "endTimeUnixNano": str(NOW_NS + 1_500_000_000),
                            "kind": 2,
                            "attributes": [
                                _kv("my.span.attr", {"stringValue": "some value"}),
                                _kv("http.status_code", {"intValue": "503"}),
                                _kv("sampled", {"boolValue": True}),
                                _kv("ratio", {"doubleValue": 0.5}),
                                _kv(
                                    "list",
                                    {"arrayValue": {"values": [{"intValue": 1}, {}]}},
                                ),
                                _kv(
                                    "map",
                                    {"kvlistValue": {"values": [_kv("k", {"bytesValue": "AQI="})]}},
                                ),
                            ],
                            "status": {"code": 2, "message": "unavailable"},
                            "futureField": {"ignored": True},
                        },
                        {
                            "traceId": TRACE_ID.lower(),
                            "spanId": CHILD_ID,
                            "parentSpanId": ROOT_ID,
                            "name": "child",
                            "startTimeUnixNano": NOW_NS + 1_000,
                            "endTimeUnixNano": NOW_NS + 2_000,
                            "kind": 3,
                            "links": [
                                {
                                    "traceId": "0af7651916cd43dd8448eb211c80319c",
                                    "spanId": "b7ad6b7169203331",
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    ]
}

OTLP_JSON_LOGS = {
    "resourceLogs": [
        {
            "resource": {"attributes": [_kv("service.name", {"stringValue": "my.service"})]},
            "scopeLogs": [
                {
                    "scope": {"name": "my.library"},
                    "logRecords": [
                        {
                            "timeUnixNano": str(NOW_NS),
                            "observedTimeUnixNano": str(NOW_NS),
                            "severityNumber": 17,
                            "severityText": "Error",
                            "traceId": TRACE_ID,
                            "spanId": ROOT_ID,
                            "body": {"stringValue": "Example log record"},
                            "attributes": [_kv("http.route", {"stringValue": "/v1/things"})],
                        },
                        {
                            "observedTimeUnixNano": str(NOW_NS + 5_000_000_000),
                            "severityNumber": 9,
                            "severityText": "INFO",
                            "body": {
                                "kvlistValue": {"values": [_kv("msg", {"stringValue": "hi"})]}
                            },
                        },
                    ],
                }
            ],
        }
    ]
}


def _span(trace_id: bytes, span_id: bytes, name: str, **kwargs: object) -> trace_pb2.Span:
    return trace_pb2.Span(
        trace_id=trace_id,
        span_id=span_id,
        name=name,
        start_time_unix_nano=NOW_NS,
        end_time_unix_nano=NOW_NS + 10,
        **kwargs,
    )


def _trace_request(service: str, *spans: trace_pb2.Span) -> bytes:
    resource = resource_pb2.Resource(
        attributes=[
            common_pb2.KeyValue(key="service.name", value=common_pb2.AnyValue(string_value=service))
        ]
    )
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=resource, scope_spans=[trace_pb2.ScopeSpans(spans=list(spans))]
            )
        ]
    )
    return request.SerializeToString()


def _attr(key: str, **value: object) -> common_pb2.KeyValue:
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(**value))


# ----------------------------------------------------------------------------- OTLP JSON


def test_otlp_json_traces_hex_ids(capture: Capture) -> None:
    r = capture.client.post("/v1/traces", content=json.dumps(OTLP_JSON_TRACES), headers=JSON)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {}

    r = capture.get(f"/api/traces/{TRACE_ID}")  # upper-case id in the URL works too
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["trace_id"] == TRACE_ID.lower()
    root, child = doc["spans"]
    assert root["span_id"] == ROOT_ID.lower()
    assert root["parent_span_id"] is None
    assert child["span_id"] == CHILD_ID
    assert child["parent_span_id"] == ROOT_ID.lower()
    assert root["service"] == child["service"] == "my.service"
    assert (root["kind"], child["kind"]) == ("SERVER", "CLIENT")
    assert (root["status_code"], child["status_code"]) == ("ERROR", "UNSET")
    assert root["start_time"] == pytest.approx(NOW_NS / 1e9, abs=1e-6)
    assert root["end_time"] - root["start_time"] == pytest.approx(1.5, abs=1e-6)
    assert root["attributes"] == {
        "my.span.attr": "some value",
        "http.status_code": 503,
        "sampled": True,
        "ratio": 0.5,
        "list": [1, None],
        "map": {"k": "AQI="},
    }
    assert root["resource"] == {"service.name": "my.service", "region": "us-east-1"}


def test_otlp_json_logs(capture: Capture) -> None:
    sent = time.time()
    r = capture.client.post("/v1/logs", content=json.dumps(OTLP_JSON_LOGS), headers=JSON)
    assert r.status_code == 200, r.text
    answered = time.time()
    logs = capture.logs()
    assert len(logs) == 2
    first, second = logs
    assert first == {
        "time": pytest.approx(NOW_NS / 1e9, abs=1e-6),
        "severity_text": "Error",
        "severity_number": 17,
        "body": "Example log record",
        "trace_id": TRACE_ID.lower(),
        "span_id": ROOT_ID.lower(),
        "service": "my.service",
        "attributes": {"http.route": "/v1/things"},
        "resource": {"service.name": "my.service"},
        "received_at": first["received_at"],
    }
    assert sent <= first["received_at"] <= answered  # when the receiver stored it
    # no timeUnixNano: the observed time is used
    assert second["time"] == pytest.approx(NOW_NS / 1e9 + 5, abs=1e-6)
    assert second["body"] == {"msg": "hi"}
    assert second["trace_id"] is None and second["span_id"] is None


def test_otlp_json_base64_ids_tolerated(capture: Capture) -> None:
    doc = copy.deepcopy(OTLP_JSON_TRACES)
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["traceId"] = "W47/95gDgQPSabYzgT/GDA=="  # base64 of 5b8efff7...
    spans[0]["spanId"] = "7uGbfsPBsXQ="  # base64 of eee19b7ec3c1b174
    del spans[1]
    r = capture.client.post("/v1/traces", json=doc)
    assert r.status_code == 200, r.text
    (span,) = capture.spans()
    assert (span["trace_id"], span["span_id"]) == (TRACE_ID.lower(), ROOT_ID.lower())


# ----------------------------------------------------------------------------- protobuf


def test_gzip_protobuf_body(capture: Capture) -> None:
    body = _trace_request(
        "billing",
        _span(b"\x01" * 16, b"\x02" * 8, "charge", kind=trace_pb2.Span.SPAN_KIND_PRODUCER),
    )
    r = capture.client.post(
        "/v1/traces", content=gzip.compress(body), headers={**PROTOBUF, "Content-Encoding": "gzip"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/x-protobuf"
    assert r.content == b""  # an empty ExportTraceServiceResponse
    (span,) = capture.spans(service="billing")
    assert span["trace_id"] == "01" * 16
    assert span["span_id"] == "02" * 8
    assert span["kind"] == "PRODUCER"


def test_protobuf_logs_body(capture: Capture) -> None:
    request = logs_service_pb2.ExportLogsServiceRequest(
        resource_logs=[
            logs_pb2.ResourceLogs(
                resource=resource_pb2.Resource(
                    attributes=[_attr("service.name", string_value="api")]
                ),
                scope_logs=[
                    logs_pb2.ScopeLogs(
                        log_records=[
                            logs_pb2.LogRecord(
                                time_unix_nano=NOW_NS,
                                severity_number=logs_pb2.SEVERITY_NUMBER_WARN,
                                severity_text="WARN",
                                body=common_pb2.AnyValue(string_value="slow request"),
                                trace_id=b"\xab" * 16,
                                span_id=b"\xcd" * 8,
                            )
                        ]
                    )
                ],
            )
        ]
    )
    r = capture.client.post("/v1/logs", content=request.SerializeToString(), headers=PROTOBUF)
    assert r.status_code == 200, r.text
    (rec,) = capture.logs(trace_id="ab" * 16)
    assert (rec["body"], rec["service"], rec["span_id"]) == ("slow request", "api", "cd" * 8)


def test_empty_protobuf_request_is_success(capture: Capture) -> None:
    r = capture.client.post("/v1/traces", content=b"", headers=PROTOBUF)
    assert r.status_code == 200
    capture.assert_empty()


def test_retried_export_does_not_duplicate_spans(capture: Capture) -> None:
    body = _trace_request("svc", _span(b"\x03" * 16, b"\x04" * 8, "once"))
    for _ in range(2):
        assert capture.client.post("/v1/traces", content=body, headers=PROTOBUF).status_code == 200
    assert len(capture.spans()) == 1


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "reason"),
    [
        ("/v1/traces", b"\x0a\xff\xff\xff\xff\x0f", PROTOBUF, 400, "malformed protobuf"),
        ("/v1/logs", b"not protobuf at all", PROTOBUF, 400, "malformed protobuf"),
        ("/v1/traces", b'{"resourceSpans": [', JSON, 400, "malformed JSON"),
        ("/v1/logs", b"[1, 2]", JSON, 400, "must be a JSON object"),
        ("/v1/traces", b'{"resourceSpans": {"x": 1}}', JSON, 400, "must be a JSON array"),
        (
            "/v1/traces",
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz", "spanId": ""}]}]}]}',
            JSON,
            400,
            "traceId must be 32 hex digits",
        ),
        (
            "/v1/traces",
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "'
            + b"ab" * 16
            + b'", "spanId": "'
            + b"cd" * 8
            + b'", "startTimeUnixNano": "soon"}]}]}]}',
            JSON,
            400,
            "invalid OTLP JSON",
        ),
        (
            "/v1/traces",
            b"\x1f\x8b\x08\x00garbage",
            {**PROTOBUF, "Content-Encoding": "gzip"},
            400,
            "malformed gzip",
        ),
        (
            "/v1/traces",
            gzip.compress(b"x" * 100, mtime=0)[:-8],
            {**PROTOBUF, "Content-Encoding": "gzip"},
            400,
            "malformed gzip",
        ),
        ("/v1/traces", b"{}", {"Content-Type": "text/plain"}, 415, "unsupported Content-Type"),
        ("/v1/logs", b"{}", {}, 415, "unsupported Content-Type"),
        (
            "/v1/traces",
            b"{}",
            {**JSON, "Content-Encoding": "br"},
            415,
            "unsupported Content-Encoding",
        ),
        (
            "/alertmanager/webhook",
            b"{}",
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            "unsupported Content-Type",
        ),
    ],
)
def test_bad_input_is_rejected_with_reason_and_stores_nothing(
    capture: Capture, path: str, body: bytes, headers: dict, status: int, reason: str
) -> None:
    r = capture.client.post(path, content=body, headers=headers)
    assert r.status_code == status, r.text
    assert reason in r.json()["detail"]
    capture.assert_empty()


def test_one_bad_span_rejects_the_whole_request(capture: Capture) -> None:
    good = _span(b"\x05" * 16, b"\x06" * 8, "good")
    bad = _span(b"\x05" * 15, b"\x07" * 8, "bad trace id length")
    r = capture.client.post(
        "/v1/traces", content=_trace_request("svc", good, bad), headers=PROTOBUF
    )
    assert r.status_code == 400
    assert "traceId must be 16 bytes, got 15" in r.json()["detail"]

    doc = copy.deepcopy(OTLP_JSON_TRACES)
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["spanId"] = "abc"
    r = capture.client.post("/v1/traces", json=doc)
    assert r.status_code == 400
    assert "spans[1].spanId" in r.json()["detail"]
    capture.assert_empty()


def test_body_size_limit(small_capture: Capture) -> None:
    big = _trace_request("svc", _span(b"\x01" * 16, b"\x02" * 8, "x" * 5000))
    r = small_capture.client.post("/v1/traces", content=big, headers=PROTOBUF)
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]

    # small on the wire, too big once decompressed
    bomb = gzip.compress(big)
    assert len(bomb) < 4096
    r = small_capture.client.post(
        "/v1/traces", content=bomb, headers={**PROTOBUF, "Content-Encoding": "gzip"}
    )
    assert r.status_code == 413
    assert "decompressed" in r.json()["detail"]

    # streamed without Content-Length
    r = small_capture.client.post(
        "/v1/traces", content=iter([big[:3000], big[3000:]]), headers=PROTOBUF
    )
    assert r.status_code == 413
    small_capture.assert_empty()

    ok = _trace_request("svc", _span(b"\x01" * 16, b"\x02" * 8, "small"))
    assert small_capture.client.post("/v1/traces", content=ok, headers=PROTOBUF).status_code == 200
    assert len(small_capture.spans()) == 1


def test_trace_lookup_errors(capture: Capture) -> None:
    r = capture.get("/api/traces/not-a-trace-id")
    assert r.status_code == 400
    assert "32 hex digits" in r.json()["detail"]
    r = capture.get("/api/traces/" + "0" * 32)
    assert r.status_code == 404


def test_health(capture: Capture) -> None:
    r = capture.get("/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "spans": 0,
        "logs": 0,
        "notifications": 0,
        "metric_points": 0,
    }


# ----------------------------------------------------------------------------- filters


@pytest.fixture
def populated(capture: Capture) -> Capture:
    spans_a = [
        _span(
            b"\x0a" * 16,
            b"\x01" * 8,
            "GET /a",
            attributes=[_attr("http.status_code", int_value=200), _attr("ok", bool_value=True)],
        ),
        _span(
            b"\x0a" * 16,
            b"\x02" * 8,
            "db",
            parent_span_id=b"\x01" * 8,
            attributes=[_attr("db.system", string_value="sqlite")],
        ),
        _span(
            b"\x0b" * 16,
            b"\x03" * 8,
            "GET /a",
            attributes=[
                _attr("http.status_code", int_value=500),
                _attr("ok", bool_value=False),
                _attr("ratio", double_value=0.5),
            ],
        ),
    ]
    spans_b = [_span(b"\x0c" * 16, b"\x04" * 8, "GET /a")]
    for service, spans in (("front", spans_a), ("back", spans_b)):
        body = _trace_request(service, *spans)
        assert capture.client.post("/v1/traces", content=body, headers=PROTOBUF).status_code == 200

    records = []
    for i, (sev, text) in enumerate(
        [("INFO", "request ok"), ("WARN", "slow request"), ("ERROR", "request failed")]
    ):
        records.append(
            {
                "timeUnixNano": str(1_700_000_000_000_000_000 + i * 1_000_000_000),
                "severityNumber": {"INFO": 9, "WARN": 13, "ERROR": 17}[sev],
                "severityText": sev,
                "body": {"stringValue": text},
                "traceId": ("0a" if i < 2 else "0b") * 16,
                "attributes": [_kv("attempt", {"intValue": str(i)})],
            }
        )
    doc = {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [
                        _kv("service.name", {"stringValue": "front"}),
                        _kv("region", {"stringValue": "ap-south-1"}),
                    ]
                },
                "scopeLogs": [{"logRecords": records}],
            }
        ]
    }
    assert capture.client.post("/v1/logs", json=doc).status_code == 200
    return capture


def test_span_filters(populated: Capture) -> None:
    c = populated
    assert len(c.spans()) == 4
    assert {s["span_id"] for s in c.spans(service="front")} == {"01" * 8, "02" * 8, "03" * 8}
    assert [s["service"] for s in c.spans(service="back")] == ["back"]
    assert len(c.spans(name="GET /a")) == 3
    assert [s["span_id"] for s in c.spans(service="front", name="db")] == ["02" * 8]
    assert [s["span_id"] for s in c.spans(attr="http.status_code=500")] == ["03" * 8]
    assert [s["span_id"] for s in c.spans(attr="ok=true")] == ["01" * 8]
    assert [s["span_id"] for s in c.spans(attr="ratio=0.5")] == ["03" * 8]
    assert c.spans(attr="http.status_code=404") == []
    # resource attributes match too
    assert len(c.spans(attr="service.name=front")) == 3
    # several attr filters all apply
    r = c.client.get("/api/spans", params=[("attr", "ok=false"), ("attr", "http.status_code=500")])
    assert [s["span_id"] for s in r.json()["spans"]] == ["03" * 8]
    r = c.client.get("/api/spans", params=[("attr", "ok=true"), ("attr", "http.status_code=500")])
    assert r.json()["spans"] == []
    assert len(c.spans(limit=2)) == 2
    r = c.get("/api/spans", attr="no-equals-sign")
    assert r.status_code == 400
    assert "key=value" in r.json()["detail"]


def test_log_filters(populated: Capture) -> None:
    c = populated
    t0 = 1_700_000_000.0
    assert [rec["body"] for rec in c.logs()] == ["request ok", "slow request", "request failed"]
    assert [rec["body"] for rec in c.logs(start=t0 + 0.5)] == ["slow request", "request failed"]
    assert [rec["body"] for rec in c.logs(start=t0, end=t0 + 1)] == ["request ok", "slow request"]
    assert [rec["body"] for rec in c.logs(trace_id="0B" * 16)] == ["request failed"]
    assert [rec["body"] for rec in c.logs(attr="attempt=1")] == ["slow request"]
    assert len(c.logs(attr="region=ap-south-1")) == 3
    assert [rec["body"] for rec in c.logs(text="request f")] == ["request failed"]
    assert c.logs(text="REQUEST") == []  # case-sensitive substring
    assert [rec["body"] for rec in c.logs(severity="warn")] == ["slow request"]
    assert [rec["body"] for rec in c.logs(severity="13")] == ["slow request", "request failed"]
    # the most recent `limit` records, oldest first
    assert [rec["body"] for rec in c.logs(limit=2)] == ["slow request", "request failed"]
