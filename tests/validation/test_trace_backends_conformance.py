"""Tempo and Jaeger trace-by-id as those projects really answer, from bodies in their sources.

Tempo (grafana/tempo):
- v2 `TraceByIDResponse` as JSON (`trace`, `status`, `message`), with the PARTIAL message
  written by modules/frontend/combiner/trace_by_id_v2.go (commit 0340d413): "Trace exceeds
  maximum size of %d bytes, a partial trace is returned".
- "trace not found": modules/frontend/combiner/trace_by_id.go (commit 0828c29a) `Complete()`
  answers 404 with the (empty) status message of the 404s it combined.
- a Tempo before 2.6 has no /api/v2/traces route: its router answers Go net/http's
  `NotFound`, "404 page not found".
Jaeger (jaegertracing/jaeger):
- api_v3 GetTrace: cmd/query/app/apiv3/snapshots/GetTrace.json (commit 65c7d77c, wrapped in
  `result`; commit 010a1bee unwrapped); not found: http_gateway.go (commit 1b16c358)
  `tryHandleError`/`returnTraces`, a `GRPCGatewayError` `{"error": {"httpCode": 404,
  "message": ...}}`.
- the parent rule: model/span.go `ParentSpanID` ("the first child-of or follows-from reference
  pointing to the same trace ID").
"""

from __future__ import annotations

import pytest

from signalcheck.backends.jaeger import PROBE_TRACE_ID, JaegerClient, parent_span_id
from signalcheck.backends.tempo import TempoClient
from signalcheck.config import Backend, JaegerBackend, TempoBackend, load_config
from signalcheck.errors import BackendError, ConfigError
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.traces import check_traces
from signalcheck.expectations import TraceExpectation
from tests.validation.documented_api import ROOT_SPAN, canned_server, otlp_resource_spans
from tests.validation.test_trace_log_evidence import TRACE_ID, _context, _probe

GO_NOT_FOUND = "404 page not found\n"
PARTIAL_MESSAGE = "Trace exceeds maximum size of 5000000 bytes, a partial trace is returned"


SPANS = otlp_resource_spans(TRACE_ID, status=200)
"""A healthy two-span trace in OTLP/JSON (ids base64, as Tempo answers)."""
V2 = f"/api/v2/traces/{TRACE_ID}"
V1 = f"/api/traces/{TRACE_ID}"


def test_tempo_partial_status_is_reported_with_its_message():
    body = {"trace": {"resourceSpans": SPANS}, "status": "PARTIAL",
            "message": PARTIAL_MESSAGE, "metrics": {"inspectedBytes": "5000001"}}  # fmt: skip
    with canned_server({V2: (200, body)}) as server, TempoClient(Backend(url=server.url)) as t:
        fetched = t.fetch_trace(TRACE_ID)
    assert len(fetched.spans) == 2
    assert fetched.partial == f"Tempo answered status PARTIAL: {PARTIAL_MESSAGE}"


def _traces_judged(tmp_path, tempo_answer: dict) -> Outcome:
    """check_traces of one probe's trace, Tempo's v2 endpoint answering `tempo_answer`."""
    with canned_server({"/api/echo": (200, "echo"), V2: (200, tempo_answer)}) as server:
        ctx = _context(tmp_path, [_probe()], tempo={"url": server.url})
        expectation = TraceExpectation(
            name="t", services=["demo-api"], operations=["db.ping"], settle=0.1, budget=2
        )
        return check_traces(expectation, ctx)


def test_tempo_partial_trace_fails_the_expectation_naming_it(tmp_path):
    partial = _traces_judged(
        tmp_path,
        {"trace": {"resourceSpans": SPANS}, "status": "PARTIAL", "message": PARTIAL_MESSAGE},
    )
    assert not partial.passed
    assert "2 span(s) returned, Tempo answered status PARTIAL" in partial.summary
    assert "5000000 bytes" in partial.summary
    complete = _traces_judged(tmp_path, {"trace": {"resourceSpans": SPANS}})
    assert complete.passed, complete.summary


def test_tempo_without_v2_falls_back_to_v1_and_stays_there():
    routes = {
        V2: (404, GO_NOT_FOUND),
        V1: (200, {"batches": SPANS}),
    }
    with canned_server(routes) as server, TempoClient(Backend(url=server.url)) as tempo:
        assert [s["name"] for s in tempo.trace(TRACE_ID)] == ["POST /auth/token", "db.ping"]
        tempo.trace(TRACE_ID)
    assert [r.path for r in server.requests] == [V2, V1, V1]
    assert tempo.api_version == "v1"


def test_tempo_v2_trace_not_found_is_not_a_missing_endpoint():
    routes = {V2: (404, ""), V1: (200, {"batches": SPANS})}
    with canned_server(routes) as server, TempoClient(Backend(url=server.url)) as tempo:
        assert tempo.fetch_trace(TRACE_ID).spans == []
    assert [r.path for r in server.requests] == [V2]
    assert tempo.api_version == "auto"


def test_tempo_api_version_v1_asks_only_v1():
    routes = {V1: (200, {"batches": SPANS})}
    with (
        canned_server(routes) as server,
        TempoClient(TempoBackend(url=server.url, api_version="v1")) as tempo,
    ):
        assert len(tempo.trace(TRACE_ID)) == 2
    assert [r.path for r in server.requests] == [V1]


JAEGER_V3 = f"/api/v3/traces/{TRACE_ID}"
JAEGER_V1 = f"/api/traces/{TRACE_ID}"
V3_NOT_FOUND = {"error": {"httpCode": 404, "message": "No traces found"}}


@pytest.mark.parametrize("wrapped", [True, False], ids=["result-wrapped", "unwrapped"])
def test_jaeger_v3_otlp_json_is_the_preferred_path(wrapped):
    data = {"resourceSpans": otlp_resource_spans(TRACE_ID, str, 200)}
    body = {"result": data} if wrapped else data
    routes = {JAEGER_V3: (200, body)}
    with canned_server(routes) as server, JaegerClient(Backend(url=server.url)) as jaeger:
        root, child = jaeger.trace(TRACE_ID)
    assert [r.path for r in server.requests] == [JAEGER_V3]
    assert (root["trace_id"], root["span_id"], root["kind"]) == (
        TRACE_ID, ROOT_SPAN, "SERVER",
    )  # fmt: skip
    assert child["parent_span_id"] == ROOT_SPAN
    assert root["resource"]["cloud.region"] == "eu-west-1"


def test_jaeger_v3_snapshot_reads_hex_ids_and_numeric_enums():
    """cmd/query/app/apiv3/snapshots/GetTrace.json, commit 65c7d77c, verbatim."""
    snapshot = {"result": {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": "myservice"}}]},
        "scopeSpans": [{"scope": {}, "spans": [{
            "endTimeUnixNano": "11651379494838206464", "kind": 2, "name": "foobar",
            "parentSpanId": "", "spanId": "00000000000000b4",
            "startTimeUnixNano": "11651379494838206464", "status": {"code": 2},
            "traceId": "000000000000009600000000000000a0"}]}]}]}}  # fmt: skip
    trace_id = "000000000000009600000000000000a0"
    routes = {f"/api/v3/traces/{trace_id}": (200, snapshot)}
    with canned_server(routes) as server, JaegerClient(Backend(url=server.url)) as jaeger:
        (span,) = jaeger.trace(trace_id)
    assert (span["trace_id"], span["span_id"], span["parent_span_id"]) == (
        trace_id, "00000000000000b4", "",
    )  # fmt: skip
    assert (span["service"], span["kind"], span["status_code"]) == ("myservice", "SERVER", "ERROR")


def test_jaeger_v3_not_found_is_empty_without_falling_back():
    routes = {JAEGER_V3: (404, V3_NOT_FOUND)}
    with canned_server(routes) as server, JaegerClient(Backend(url=server.url)) as jaeger:
        assert jaeger.trace(TRACE_ID) == []
    assert [r.path for r in server.requests] == [JAEGER_V3]


@pytest.mark.parametrize(
    "missing", [(404, GO_NOT_FOUND), (200, "<!doctype html><title>Jaeger UI</title>")],
    ids=["plain-404", "ui-page"],
)  # fmt: skip
def test_jaeger_without_v3_falls_back_to_the_classic_json_api(missing):
    classic = {"data": [{"traceID": TRACE_ID, "spans": [
        {"traceID": TRACE_ID, "spanID": "a1a1a1a1a1a1a1a1", "operationName": "GET /",
         "references": [], "startTime": 1699999999500000, "duration": 400000,
         "tags": [{"key": "span.kind", "type": "string", "value": "server"}],
         "processID": "p1"}],
        "processes": {"p1": {"serviceName": "demo-api", "tags": []}}}],
        "total": 0, "limit": 0, "offset": 0, "errors": None}  # fmt: skip
    routes = {JAEGER_V3: missing, JAEGER_V1: (200, classic)}
    with canned_server(routes) as server, JaegerClient(Backend(url=server.url)) as jaeger:
        assert [s["name"] for s in jaeger.trace(TRACE_ID)] == ["GET /"]
        jaeger.trace(TRACE_ID)
    assert [r.path for r in server.requests] == [JAEGER_V3, JAEGER_V1, JAEGER_V1]


def test_jaeger_parent_is_a_same_trace_reference_only():
    other_trace = "0af7651916cd43dd8448eb211c80319c"
    span = {"traceID": TRACE_ID, "spanID": "c3c3c3c3c3c3c3c3", "references": [
        {"refType": "CHILD_OF", "traceID": other_trace, "spanID": "1111111111111111"},
        {"refType": "FOLLOWS_FROM", "traceID": TRACE_ID, "spanID": "2222222222222222"},
        {"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": "3333333333333333"},
    ]}  # fmt: skip
    assert parent_span_id(span) == "3333333333333333"
    span["references"].pop()
    assert parent_span_id(span) == "2222222222222222"
    span["references"].pop()
    assert parent_span_id(span) == ""
    short = {"traceID": TRACE_ID.lstrip("0") or "0", "spanID": "c3", "references": [
        {"refType": "CHILD_OF", "traceID": "0" * 16 + TRACE_ID[16:], "spanID": "44"}]}  # fmt: skip
    assert parent_span_id(short) == ""


def test_jaeger_health_needs_only_the_trace_endpoint():
    probe_v3 = f"/api/v3/traces/{PROBE_TRACE_ID}"
    probe_v1 = f"/api/traces/{PROBE_TRACE_ID}"
    jaeger_v1_not_found = {"data": None, "total": 0, "limit": 0, "offset": 0,
                           "errors": [{"code": 404, "msg": "trace not found"}]}  # fmt: skip
    with canned_server({probe_v3: (404, V3_NOT_FOUND)}) as server:
        with JaegerClient(Backend(url=server.url)) as jaeger:
            jaeger.check_reachable()
        assert [r.path for r in server.requests] == [probe_v3]
    routes = {probe_v3: (404, GO_NOT_FOUND), probe_v1: (404, jaeger_v1_not_found)}
    with canned_server(routes) as server, JaegerClient(Backend(url=server.url)) as jaeger:
        jaeger.check_reachable()
        assert jaeger.api_version == "v1"
    assert "/api/services" not in [r.path for r in server.requests]


def test_jaeger_health_fails_when_nothing_answers_like_jaeger():
    with (
        canned_server({}) as server,
        JaegerClient(JaegerBackend(url=server.url)) as jaeger,
        pytest.raises(BackendError, match="does not answer like Jaeger's trace API"),
    ):
        jaeger.check_reachable()


@pytest.mark.parametrize(
    ("backend", "value", "expected"),
    [("tempo", "v3", "backends.tempo.api_version: Input should be 'auto', 'v1' or 'v2'"),
     ("jaeger", "v2", "backends.jaeger.api_version: Input should be 'auto', 'v3' or 'v1'")],
)  # fmt: skip
def test_api_version_config_errors_name_file_key_and_form(tmp_path, backend, value, expected):
    path = tmp_path / "signalcheck.yaml"
    path.write_text(
        'regions:\n  eu-west-1: {base_url: "http://127.0.0.1:18002"}\n'
        f'backends:\n  {backend}: {{url: "http://127.0.0.1:3200", api_version: {value}}}\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)
