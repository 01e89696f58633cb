"""Traces: the caller's W3C trace continues into a SERVER span with DB and notify children."""

from __future__ import annotations

import pytest
from demo_harness import Demo
from opentelemetry.trace import SpanKind, StatusCode

pytestmark = pytest.mark.anyio

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_SPAN_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"


async def test_create_continues_caller_trace_with_child_spans(demo: Demo) -> None:
    headers = {**await demo.auth_headers(), "traceparent": TRACEPARENT}
    response = await demo.client.post(
        "/v1/assignments", json={"title": "traced", "assignee": "a@example.com"}, headers=headers
    )
    assert response.status_code == 201

    server = demo.server_span(int(TRACE_ID, 16))
    assert server.name == "POST /v1/assignments"
    assert server.parent is not None
    assert server.parent.span_id == int(PARENT_SPAN_ID, 16)
    assert server.parent.is_remote
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["http.route"] == "/v1/assignments"
    assert server.attributes["http.response.status_code"] == 201
    assert server.attributes["url.path"] == "/v1/assignments"
    assert server.status.status_code is StatusCode.UNSET

    children = {
        s.name: s
        for s in demo.spans()
        if s.parent is not None and s.parent.span_id == server.context.span_id
    }
    assert set(children) == {"db.insert_assignment", "notify.assignment_created"}
    db = children["db.insert_assignment"]
    assert db.kind is SpanKind.CLIENT
    assert db.attributes["db.system"] == "sqlite"
    assert db.attributes["db.operation"] == "INSERT"
    assert db.context.trace_id == int(TRACE_ID, 16)
    notify = children["notify.assignment_created"]
    assert notify.kind is SpanKind.INTERNAL
    assert notify.attributes["assignment.id"] == response.json()["id"]


async def test_resource_attributes(demo: Demo) -> None:
    await demo.client.get("/health")
    (span,) = demo.spans()
    assert span.name == "GET /health"
    resource = span.resource.attributes
    assert resource["service.name"] == "demo-api"
    assert resource["service.version"] == "1.2.3"
    assert resource["deployment.environment"] == "local"
    assert resource["cloud.region"] == "eu-west-1"


async def test_get_span_uses_route_template_and_db_child(demo: Demo) -> None:
    headers = {**await demo.auth_headers(), "traceparent": TRACEPARENT}
    await demo.client.get("/v1/assignments/abc-123", headers=headers)
    server = demo.server_span(int(TRACE_ID, 16))
    assert server.name == "GET /v1/assignments/{assignment_id}"
    assert server.attributes["http.response.status_code"] == 404
    assert server.attributes["url.path"] == "/v1/assignments/abc-123"
    names = [
        s.name for s in demo.spans() if s.parent and s.parent.span_id == server.context.span_id
    ]
    assert names == ["db.get_assignment"]


async def test_without_traceparent_a_new_trace_starts(demo: Demo) -> None:
    await demo.client.get("/health")
    (span,) = demo.spans()
    assert span.parent is None
    assert span.kind is SpanKind.SERVER
    assert span.context.trace_id != int(TRACE_ID, 16)


async def test_unmatched_path_span_and_metrics_scrape_untraced(demo: Demo) -> None:
    await demo.client.get("/no/such/page")
    await demo.client.get("/metrics")
    (span,) = demo.spans()
    assert span.name == "GET"
    assert "http.route" not in span.attributes
    assert span.attributes["http.response.status_code"] == 404
