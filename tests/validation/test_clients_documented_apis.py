"""Loki, Tempo and Jaeger clients against their documented HTTP APIs.

No Loki, Tempo or Jaeger server can run on this machine, so these tests serve response
bodies that follow each project's documented API exactly (Loki HTTP API `query_range` /
`query` examples with `streams` and `matrix` results; Tempo API `GET /api/traces/<id>`
(`batches`), `GET /api/v2/traces/<id>` (`trace.resourceSpans`, OTLP-JSON with base64 ids)
and `GET /api/search` with TraceQL; Jaeger query `GET /api/traces/{id}`, `/api/services` and
`/api/services/{service}/operations`) from a local HTTP server, and check what the clients
send (paths, nanosecond times, direction, limit, auth and tenant headers) and how they read
the answers.
"""

from __future__ import annotations

import base64

import pytest

from signalcheck.backends.jaeger import JaegerClient
from signalcheck.backends.loki import LokiClient
from signalcheck.backends.tempo import TempoClient
from signalcheck.config import Backend, TempoBackend
from signalcheck.errors import BackendError, LokiTruncated
from tests.validation.documented_api import (
    CHILD_SPAN,
    ROOT_SPAN,
    canned_server,
    otlp_resource_spans,
)

TRACE_ID = "2f3e0cee77ae5dc9c17ade3689eb2e54"

LOKI_STREAMS = {
    "status": "success",
    "data": {
        "resultType": "streams",
        "result": [
            {
                "stream": {"service_name": "demo-api", "level": "info"},
                "values": [
                    ["1569266497240578000", '{"message": "request completed", "trace_id": "'
                     + TRACE_ID + '", "level": "INFO"}'],
                    ["1569266492548155000", "plain text line"],
                ],
            }
        ],
        "stats": {"summary": {"bytesProcessedPerSecond": 0}},
    },
}  # fmt: skip
LOKI_CATEGORIZED = {
    "status": "success",
    "warnings": ["this is a warning"],
    "data": {
        "resultType": "streams",
        "encodingFlags": ["categorize-labels"],
        "result": [
            {
                "stream": {"test": "test"},
                "values": [
                    ["123456789012345", "super line", {}],
                    ["123456789012346", "super line with labels",
                     {"structuredMetadata": {"foo": "a", "bar": "b"}}],
                    ["123456789012347", "super line with labels msg=text",
                     {"structuredMetadata": {"foo": "a", "bar": "b"}, "parsed": {"msg": "text"}}],
                ],
            }
        ],
        "stats": {},
    },
}  # fmt: skip
"""`queryTestWithEncodingFlags` of grafana/loki pkg/util/marshal/marshal_test.go: a streams
answer with the `categorize-labels` encoding flag (entries carry structured metadata and parsed
labels as a third element)."""
LOKI_MATRIX = {
    "status": "success",
    "data": {
        "resultType": "matrix",
        "result": [
            {
                "metric": {"level": "error"},
                "values": [[1569266497.24, "0.2"], [1569266857.24, "0.4"]],
            }
        ],
        "stats": {},
    },
}


TEMPO_SEARCH = {
    "traces": [
        {
            "traceID": TRACE_ID,
            "rootServiceName": "demo-api",
            "rootTraceName": "POST /auth/token",
            "startTimeUnixNano": "1684778327699392724",
            "durationMs": 557,
            "spanSets": [
                {
                    "spans": [
                        {
                            "spanID": ROOT_SPAN,
                            "startTimeUnixNano": "1684778327699392724",
                            "durationNanos": "557000000",
                            "attributes": [{"key": "status", "value": {"stringValue": "error"}}],
                        }
                    ],
                    "matched": 1,
                }
            ],
        }
    ],
    "metrics": {"totalBlocks": 13},
}

JAEGER_TRACE = {
    "data": [
        {
            "traceID": TRACE_ID,
            "spans": [
                {
                    "traceID": TRACE_ID,
                    "spanID": ROOT_SPAN,
                    "flags": 1,
                    "operationName": "POST /auth/token",
                    "references": [
                        {"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": "00f067aa0ba902b7"}
                    ],
                    "startTime": 1684778327699392,
                    "duration": 557000,
                    "tags": [
                        {"key": "span.kind", "type": "string", "value": "server"},
                        {"key": "error", "type": "bool", "value": True},
                        {"key": "http.route", "type": "string", "value": "/auth/token"},
                    ],
                    "logs": [],
                    "processID": "p1",
                    "warnings": None,
                },
                {
                    "traceID": TRACE_ID,
                    "spanID": CHILD_SPAN,
                    "flags": 1,
                    "operationName": "db.ping",
                    "references": [
                        {"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": ROOT_SPAN}
                    ],
                    "startTime": 1684778327700000,
                    "duration": 10000,
                    "tags": [{"key": "span.kind", "type": "string", "value": "client"}],
                    "logs": [],
                    "processID": "p1",
                    "warnings": None,
                },
            ],
            "processes": {
                "p1": {
                    "serviceName": "demo-api",
                    "tags": [{"key": "cloud.region", "type": "string", "value": "eu-west-1"}],
                }
            },
            "warnings": None,
        }
    ],
    "total": 0,
    "limit": 0,
    "offset": 0,
    "errors": None,
}
JAEGER_NOT_FOUND = {
    "data": None,
    "total": 0,
    "limit": 0,
    "offset": 0,
    "errors": [{"code": 404, "msg": "trace not found"}],
}


def test_loki_query_range_sends_nanoseconds_direction_limit_tenant_and_auth(monkeypatch):
    monkeypatch.setenv("LOKI_TOKEN", "s3cret")
    routes = {"/loki/api/v1/query_range": (200, LOKI_STREAMS)}
    with canned_server(routes) as server:
        backend = Backend(url=server.url, tenant="team-a", bearer_token_env="LOKI_TOKEN")
        with LokiClient(backend) as loki:
            data = loki.query_range(
                '{service_name="demo-api"}', 1569266492.5, 1569266497.25, limit=50,
                direction="backward",
            )  # fmt: skip
    sent = server.requests[0]
    assert sent.params == {
        "query": ['{service_name="demo-api"}'],
        "start": ["1569266492500000000"],
        "end": ["1569266497250000000"],
        "limit": ["50"],
        "direction": ["backward"],
    }
    assert sent.headers["X-Scope-OrgID"] == "team-a"
    assert sent.headers["Authorization"] == "Bearer s3cret"
    assert data["resultType"] == "streams"


def test_loki_lines_are_read_oldest_first_with_labels():
    routes = {"/loki/api/v1/query_range": (200, LOKI_STREAMS)}
    with canned_server(routes) as server, LokiClient(Backend(url=server.url)) as loki:
        lines = loki.lines('{service_name="demo-api"}', 0, 2e9)
    assert lines[0].line == "plain text line"
    assert lines[1].time == pytest.approx(1569266497.240578)
    assert lines[1].labels == {"service_name": "demo-api", "level": "info"}


def test_loki_categorized_entries_keep_structured_metadata_and_parsed_labels():
    """Body: grafana/loki pkg/util/marshal/marshal_test.go `queryTestWithEncodingFlags`."""
    routes = {"/loki/api/v1/query_range": (200, LOKI_CATEGORIZED)}
    with canned_server(routes) as server, LokiClient(Backend(url=server.url)) as loki:
        plain, labelled, parsed = loki.lines('{test="test"}', 0, 2e9)
    assert (plain.ns, plain.line, plain.metadata) == (123456789012345, "super line", {})
    assert labelled.metadata == {"foo": "a", "bar": "b"}
    assert parsed.metadata == {"foo": "a", "bar": "b", "msg": "text"}
    assert parsed.labels == {"test": "test"}


def _stream_page(entries: list[tuple[int, str]]) -> dict:
    """A streams answer in the shape of the query_range example of grafana/loki
    docs/sources/reference/loki-http-api.md."""
    values = [[str(ns), line] for ns, line in entries]
    return {
        "status": "success",
        "data": {
            "resultType": "streams",
            "result": [{"stream": {"job": "varlogs"}, "values": values}],
            "stats": {},
        },
    }


def _paged_loki(stored: list[tuple[int, str]]):
    """A query_range answering as that document says: the lines with start <= ns < end, the
    first `limit` of them (direction forward)."""

    def answer(params: dict[str, list[str]]) -> tuple[int, dict]:
        start, end, limit = (int(params[k][0]) for k in ("start", "end", "limit"))
        return 200, _stream_page([(ns, line) for ns, line in stored if start <= ns < end][:limit])

    return answer


def test_loki_lines_page_through_an_answer_cut_at_limit():
    """Loki's `start` is inclusive and `end` exclusive (loki-http-api.md, query_range): a
    page cut at `limit` goes on from its last timestamp, without repeating its lines, and
    keeps the other lines of that timestamp."""
    stored = [(1000, "a"), (1001, "b"), (1002, "c"), (1002, "d"), (1003, "e"), (1004, "f")]
    routes = {"/loki/api/v1/query_range": _paged_loki(stored)}
    with canned_server(routes) as server, LokiClient(Backend(url=server.url)) as loki:
        lines = loki.lines('{job="varlogs"}', 0, 1e-5, limit=3)
    assert [(line.ns, line.line) for line in lines] == stored
    assert [int(r.params["start"][0]) for r in server.requests] == [0, 1002, 1003]
    assert all(r.params["direction"] == ["forward"] for r in server.requests)


def test_loki_answer_still_cut_after_the_last_page_is_an_error_not_a_short_result():
    stored = [(ns, f"line {ns}") for ns in range(1000, 1020)]
    routes = {"/loki/api/v1/query_range": _paged_loki(stored)}
    with canned_server(routes) as server, LokiClient(Backend(url=server.url)) as loki:
        with pytest.raises(LokiTruncated, match=r"still cut at limit=5 after 2 pages \(9 lines\)"):
            loki.lines('{job="varlogs"}', 0, 1e-5, limit=5, max_pages=2)
        server.routes["/loki/api/v1/query_range"] = (200, _stream_page([(7, "x"), (7, "y")]))
        with pytest.raises(LokiTruncated, match="more than 2 lines share timestamp 7"):
            loki.lines('{job="varlogs"}', 0, 1e-5, limit=2)


def test_loki_instant_metric_query_returns_the_matrix_and_refuses_lines_of_it():
    routes = {
        "/loki/api/v1/query": (200, LOKI_MATRIX),
        "/loki/api/v1/query_range": (200, LOKI_MATRIX),
    }
    with canned_server(routes) as server, LokiClient(Backend(url=server.url)) as loki:
        data = loki.query('sum(count_over_time({level="error"}[5m]))', time=1569266497.24)
        assert server.requests[0].params["time"] == ["1569266497240000000"]
        assert data["result"][0]["values"][1] == [1569266857.24, "0.4"]
        with pytest.raises(BackendError, match="expected a streams result, got matrix"):
            loki.lines('count_over_time({level="error"}[5m])', 0, 1)


def test_loki_error_answer_names_the_backend_and_the_query():
    routes = {"/loki/api/v1/query_range": (400, "parse error at line 1, col 2: syntax error")}
    expected = r"loki: GET .*query_range.* returned 400: parse"
    with (
        canned_server(routes) as server,
        LokiClient(Backend(url=server.url)) as loki,
        pytest.raises(BackendError, match=expected),
    ):
        loki.query_range("{", 0, 1)


@pytest.mark.parametrize(
    ("version", "path", "body"),
    [
        ("v1", f"/api/traces/{TRACE_ID}", {"batches": otlp_resource_spans(TRACE_ID)}),
        (
            "v2",
            f"/api/v2/traces/{TRACE_ID}",
            {"trace": {"resourceSpans": otlp_resource_spans(TRACE_ID)}},
        ),
        (
            "v2",
            f"/api/v2/traces/{TRACE_ID}",
            {"trace": {"resourceSpans": otlp_resource_spans(TRACE_ID, str)}},
        ),
    ],
    ids=["v1-batches-base64", "v2-resourceSpans-base64", "v2-resourceSpans-hex"],
)
def test_tempo_trace_by_id_reads_otlp_json_spans(version, path, body):
    with (
        canned_server({path: (200, body)}) as server,
        TempoClient(TempoBackend(url=server.url, api_version=version)) as tempo,
    ):
        spans = tempo.trace(TRACE_ID)
    assert server.requests[0].path == path
    root, child = spans
    assert root["trace_id"] == TRACE_ID
    assert (root["span_id"], root["parent_span_id"]) == (ROOT_SPAN, "00f067aa0ba902b7")
    assert (root["service"], root["name"], root["kind"]) == (
        "demo-api",
        "POST /auth/token",
        "SERVER",
    )
    assert root["status_code"] == "ERROR"
    assert root["attributes"] == {"http.route": "/auth/token", "http.response.status_code": 500}
    assert root["resource"]["cloud.region"] == "eu-west-1"
    assert root["end_time"] - root["start_time"] == pytest.approx(0.557)
    assert (child["parent_span_id"], child["kind"], child["status_code"]) == (
        ROOT_SPAN, "CLIENT", "UNSET",
    )  # fmt: skip


def test_tempo_trace_not_found_is_empty_and_search_sends_traceql():
    routes = {"/api/search": (200, TEMPO_SEARCH)}
    with canned_server(routes) as server, TempoClient(Backend(url=server.url)) as tempo:
        assert tempo.trace(TRACE_ID) == []
        found = tempo.search('{ resource.service.name = "demo-api" && status = error }',
                             start=1684778300, end=1684778400, limit=5)  # fmt: skip
    search = server.requests[1]
    assert search.params["q"] == ['{ resource.service.name = "demo-api" && status = error }']
    assert (search.params["start"], search.params["end"], search.params["limit"]) == (
        ["1684778300"], ["1684778400"], ["5"],
    )  # fmt: skip
    assert found[0]["traceID"] == TRACE_ID
    assert found[0]["spanSets"][0]["matched"] == 1


def test_jaeger_trace_services_and_operations():
    routes = {
        f"/api/traces/{TRACE_ID}": (200, JAEGER_TRACE),
        "/api/services": (200, {"data": ["demo-api", "jaeger-query"], "total": 2, "limit": 0,
                                "offset": 0, "errors": None}),
        "/api/services/demo-api/operations": (200, {"data": ["POST /auth/token", "db.ping"],
                                                    "total": 2, "limit": 0, "offset": 0,
                                                    "errors": None}),
    }  # fmt: skip
    with canned_server(routes) as server, JaegerClient(Backend(url=server.url)) as jaeger:
        root, child = jaeger.trace(TRACE_ID)
        assert jaeger.services() == ["demo-api", "jaeger-query"]
        assert jaeger.operations("demo-api") == ["POST /auth/token", "db.ping"]
    assert (root["service"], root["name"], root["kind"], root["status_code"]) == (
        "demo-api", "POST /auth/token", "SERVER", "ERROR",
    )  # fmt: skip
    assert root["parent_span_id"] == "00f067aa0ba902b7"
    assert root["end_time"] - root["start_time"] == pytest.approx(0.557)
    assert (child["parent_span_id"], child["kind"], child["status_code"]) == (
        ROOT_SPAN, "CLIENT", "UNSET",
    )  # fmt: skip
    assert child["resource"] == {"cloud.region": "eu-west-1"}


def test_jaeger_trace_not_found_is_empty():
    routes = {f"/api/traces/{TRACE_ID}": (404, JAEGER_NOT_FOUND)}
    with canned_server(routes) as server, JaegerClient(Backend(url=server.url)) as jaeger:
        assert jaeger.trace(TRACE_ID) == []


def test_5xx_is_retried_and_basic_auth_sent(monkeypatch):
    monkeypatch.setenv("JAEGER_PASSWORD", "pw")
    routes = {"/api/services": (503, "unavailable")}
    with canned_server(routes) as server:
        backend = Backend(url=server.url, username="ops", password_env="JAEGER_PASSWORD")
        jaeger = JaegerClient(backend, retries=2, backoff=0.01)
        with jaeger, pytest.raises(BackendError, match="returned 503"):
            jaeger.services()
    assert len(server.requests) == 3
    assert (
        server.requests[0].headers["Authorization"]
        == "Basic " + base64.b64encode(b"ops:pw").decode()
    )
