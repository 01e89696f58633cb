"""Logs: JSON lines on stdout and OTLP records, both carrying the request's trace context."""

from __future__ import annotations

import json

import pytest
from demo_harness import Demo, MakeDemo
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

pytestmark = pytest.mark.anyio

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def test_otlp_records_carry_trace_and_span_ids(demo: Demo) -> None:
    headers = {**await demo.auth_headers(), "traceparent": TRACEPARENT}
    response = await demo.client.post("/v1/assignments", json={"title": "t"}, headers=headers)
    assert response.status_code == 201

    spans = {s.name: s for s in demo.spans() if format_trace_id(s.context.trace_id) == TRACE_ID}
    in_trace = {
        r.log_record.body: r
        for r in demo.logs()
        if r.log_record.trace_id and format_trace_id(r.log_record.trace_id) == TRACE_ID
    }
    assert set(in_trace) == {
        "assignment created",
        "assignment notification sent",
        "request completed",
    }

    expected_span = {
        "assignment created": "POST /v1/assignments",
        "request completed": "POST /v1/assignments",
        "assignment notification sent": "notify.assignment_created",
    }
    for body, span_name in expected_span.items():
        assert in_trace[body].log_record.span_id == spans[span_name].context.span_id, body

    access = in_trace["request completed"]
    assert access.log_record.severity_text == "INFO"
    assert access.log_record.attributes["route"] == "/v1/assignments"
    assert access.log_record.attributes["status"] == 201
    assert access.log_record.attributes["method"] == "POST"
    assert access.log_record.attributes["duration_ms"] >= 0
    assert access.resource.attributes["service.name"] == "demo-api"
    assert access.resource.attributes["cloud.region"] == "eu-west-1"
    created = in_trace["assignment created"].log_record.attributes
    assert created["assignment_id"] == response.json()["id"]


async def test_stdout_lines_are_json_with_trace_context(
    capsys: pytest.CaptureFixture[str], make_demo: MakeDemo
) -> None:
    # capsys comes first so that it outlives the app, whose shutdown still logs.
    demo = await make_demo()
    await demo.client.get("/health/ready", headers={"traceparent": TRACEPARENT})

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (access,) = [line for line in lines if line["message"] == "request completed"]
    (server,) = [s for s in demo.spans() if s.kind is SpanKind.SERVER]
    assert access["trace_id"] == TRACE_ID
    assert access["span_id"] == format_span_id(server.context.span_id)
    assert access["level"] == "INFO"
    assert access["logger"] == "demo.access"
    assert access["service"] == "demo-api"
    assert access["region"] == "eu-west-1"
    assert access["route"] == "/health/ready"
    assert access["status"] == 200
    assert access["time"].endswith("+00:00")
    (startup,) = [line for line in lines if line["message"] == "demo service started"]
    assert "trace_id" not in startup


async def test_secrets_are_not_logged(
    capsys: pytest.CaptureFixture[str], make_demo: MakeDemo
) -> None:
    demo = await make_demo(client_secret="top-secret-value")
    credentials = {"client_id": "p", "client_secret": "top-secret-value"}
    token = (await demo.client.post("/auth/token", json=credentials)).json()["access_token"]
    await demo.client.post("/auth/token", json={"client_id": "p", "client_secret": "guess"})
    output = capsys.readouterr().out
    bodies = " ".join(str(r.log_record.body) + str(r.log_record.attributes) for r in demo.logs())
    for text in (output, bodies):
        assert "top-secret-value" not in text
        assert "guess" not in text
        assert token not in text
    assert "rejected client credentials" in output
