"""Fault injection: the admin API, each fault's effect on requests and telemetry, and reset."""

from __future__ import annotations

import time

import pytest
from demo_harness import ADMIN_TOKEN, Demo, MakeDemo
from opentelemetry.trace import SpanKind, StatusCode

pytestmark = pytest.mark.anyio

HEALTHY = {"latency_ms": 0, "error_rate": 0.0, "ready": True, "dependency_down": False}


async def test_admin_get_put_delete(demo: Demo) -> None:
    assert await demo.admin("GET") == HEALTHY
    changed = await demo.admin("PUT", {"latency_ms": 5, "ready": False})
    assert changed == {**HEALTHY, "latency_ms": 5, "ready": False}
    assert await demo.admin("GET") == changed
    assert await demo.admin("PUT", {"error_rate": 0.5}) == {**changed, "error_rate": 0.5}
    assert await demo.admin("DELETE") == HEALTHY
    assert await demo.admin("GET") == HEALTHY


@pytest.mark.parametrize(
    "body",
    [
        {"latency_ms": -1},
        {"latency_ms": 60001},
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"ready": "maybe"},
        {"unknown": 1},
    ],
)
async def test_out_of_range_update_is_422_and_changes_nothing(demo: Demo, body: dict) -> None:
    await demo.admin("PUT", {"latency_ms": 7})
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = await demo.client.put("/admin/faults", json=body, headers=headers)
    assert response.status_code == 422
    assert await demo.admin("GET") == {**HEALTHY, "latency_ms": 7}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_admin_requires_the_admin_token(demo: Demo, method: str) -> None:
    body = {"ready": False} if method == "PUT" else None
    missing = await demo.client.request(method, "/admin/faults", json=body)
    assert missing.status_code == 401
    wrong_headers = {"Authorization": "Bearer not-the-token"}
    wrong = await demo.client.request(method, "/admin/faults", json=body, headers=wrong_headers)
    assert wrong.status_code == 401
    client_headers = await demo.auth_headers()
    client = await demo.client.request(method, "/admin/faults", json=body, headers=client_headers)
    assert client.status_code == 401
    assert await demo.admin("GET") == HEALTHY


async def test_admin_is_disabled_without_a_token(make_demo: MakeDemo) -> None:
    demo = await make_demo(admin_token=None)
    response = await demo.client.get("/admin/faults", headers={"Authorization": "Bearer x"})
    assert response.status_code == 503
    assert "DEMO_ADMIN_TOKEN" in response.json()["detail"]


async def test_latency_delays_api_but_not_health(demo: Demo) -> None:
    headers = await demo.auth_headers()
    await demo.admin("PUT", {"latency_ms": 300})

    started = time.perf_counter()
    response = await demo.client.post("/v1/assignments", json={"title": "slow"}, headers=headers)
    slow = time.perf_counter() - started
    assert response.status_code == 201
    assert slow >= 0.3

    started = time.perf_counter()
    assert (await demo.client.get("/health/ready")).status_code == 200
    assert time.perf_counter() - started < 0.3

    labels = {"method": "POST", "route": "/v1/assignments", "region": "eu-west-1"}
    assert await demo.metric("http_request_duration_seconds_bucket", le="0.25", **labels) == 0
    assert await demo.metric("http_request_duration_seconds_bucket", le="0.5", **labels) == 1

    await demo.admin("DELETE")
    started = time.perf_counter()
    await demo.client.post("/v1/assignments", json={"title": "fast"}, headers=headers)
    assert time.perf_counter() - started < 0.3


async def test_error_rate_one_fails_every_api_request(demo: Demo) -> None:
    headers = await demo.auth_headers()
    await demo.admin("PUT", {"error_rate": 1.0})
    traceparent = "00-11111111111111111111111111111111-2222222222222222-01"

    create = await demo.client.post(
        "/v1/assignments", json={"title": "t"}, headers={**headers, "traceparent": traceparent}
    )
    token = await demo.client.post("/auth/token", json={"client_id": "p", "client_secret": "x"})
    for response in (create, token):
        assert response.status_code == 500
        assert response.json() == {"detail": "injected fault"}
    assert (await demo.client.get("/health")).status_code == 200
    assert (await demo.client.get("/health/ready")).status_code == 200

    server = demo.server_span(0x11111111111111111111111111111111)
    assert server.status.status_code is StatusCode.ERROR
    assert server.attributes["http.response.status_code"] == 500
    errors = [
        r.log_record
        for r in demo.logs()
        if r.log_record.severity_text == "ERROR" and r.log_record.body == "injected fault"
    ]
    assert len(errors) == 2
    assert errors[0].trace_id == server.context.trace_id
    assert errors[0].span_id == server.context.span_id

    for route in ("/v1/assignments", "/auth/token"):
        labels = {"method": "POST", "route": route, "status": "500"}
        assert await demo.metric("http_requests_total", **labels) == 1
    assert await demo.metric("demo_assignments_created_total") == 0

    await demo.admin("DELETE")
    ok = await demo.client.post("/v1/assignments", json={"title": "t"}, headers=headers)
    assert ok.status_code == 201


async def test_error_rate_zero_point_five_fails_some(demo: Demo) -> None:
    await demo.admin("PUT", {"error_rate": 0.5})
    credentials = {"client_id": "p", "client_secret": "demo-secret"}
    statuses = [
        (await demo.client.post("/auth/token", json=credentials)).status_code for _ in range(60)
    ]
    assert set(statuses) == {200, 500}


async def test_not_ready_fault(demo: Demo) -> None:
    await demo.admin("PUT", {"ready": False})
    response = await demo.client.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "reason": "marked not ready by fault injection",
    }
    assert (await demo.client.get("/health")).status_code == 200
    headers = await demo.auth_headers()
    created = await demo.client.post("/v1/assignments", json={"title": "t"}, headers=headers)
    assert created.status_code == 201

    await demo.admin("DELETE")
    assert (await demo.client.get("/health/ready")).status_code == 200


async def test_dependency_down_fault(demo: Demo) -> None:
    headers = await demo.auth_headers()
    created = await demo.client.post("/v1/assignments", json={"title": "t"}, headers=headers)
    url = f"/v1/assignments/{created.json()['id']}"
    await demo.admin("PUT", {"dependency_down": True})
    traceparent = "00-33333333333333333333333333333333-4444444444444444-01"

    for response in (
        await demo.client.post(
            "/v1/assignments", json={"title": "t"}, headers={**headers, "traceparent": traceparent}
        ),
        await demo.client.get(url, headers=headers),
        await demo.client.delete(url, headers=headers),
    ):
        assert response.status_code == 503
        assert response.json() == {"detail": "database unavailable"}
    ready = await demo.client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["reason"].startswith("database unavailable")
    assert (
        await demo.client.post(
            "/auth/token", json={"client_id": "p", "client_secret": "demo-secret"}
        )
    ).status_code == 200

    spans = [s for s in demo.spans() if s.context.trace_id == 0x33333333333333333333333333333333]
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    (db,) = [s for s in spans if s.name == "db.insert_assignment"]
    assert server.status.status_code is StatusCode.ERROR
    assert db.status.status_code is StatusCode.ERROR
    assert db.parent is not None and db.parent.span_id == server.context.span_id
    assert await demo.metric("demo_dependency_up", dependency="database") == 0

    await demo.admin("DELETE")
    assert (await demo.client.get(url, headers=headers)).status_code == 200
    assert (await demo.client.get("/health/ready")).status_code == 200
    assert await demo.metric("demo_dependency_up", dependency="database") == 1


async def test_fault_changes_are_logged_as_warnings(demo: Demo) -> None:
    await demo.admin("PUT", {"error_rate": 0.25})
    await demo.admin("DELETE")
    warnings = [r.log_record for r in demo.logs() if r.log_record.severity_text == "WARN"]
    assert [w.body for w in warnings] == ["fault injection changed", "fault injection reset"]
    assert warnings[0].attributes["error_rate"] == 0.25
    assert warnings[1].attributes["error_rate"] == 0.0
