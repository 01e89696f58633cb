"""Prometheus metrics: names, labels and counts as the foundation contract states them."""

from __future__ import annotations

from collections import Counter

import pytest
from demo_harness import Demo
from opentelemetry.trace import StatusCode

from signalcheck.demo.store import AssignmentStore

pytestmark = pytest.mark.anyio

REGION = "eu-west-1"


async def test_request_counts_use_route_templates(demo: Demo) -> None:
    headers = await demo.auth_headers()
    ids = []
    for title in ("one", "two"):
        created = await demo.client.post("/v1/assignments", json={"title": title}, headers=headers)
        ids.append(created.json()["id"])
    for assignment_id in ids:
        await demo.client.get(f"/v1/assignments/{assignment_id}", headers=headers)
    await demo.client.delete(f"/v1/assignments/{ids[0]}", headers=headers)
    await demo.client.get("/v1/assignments/does-not-exist", headers=headers)
    await demo.client.post("/v1/assignments", json={"title": "no token"})
    await demo.client.post("/v1/assignments", json={"priority": "x"}, headers=headers)
    await demo.client.get("/no/such/page")

    samples = [s for s in await demo.samples() if s.name == "http_requests_total"]
    counts = Counter()
    for sample in samples:
        assert set(sample.labels) == {"method", "route", "status", "region"}
        assert sample.labels["region"] == REGION
        key = (sample.labels["method"], sample.labels["route"], sample.labels["status"])
        counts[key] += sample.value
    item = "/v1/assignments/{assignment_id}"
    assert counts == {
        ("POST", "/auth/token", "200"): 1,
        ("POST", "/v1/assignments", "201"): 2,
        ("GET", item, "200"): 2,
        ("DELETE", item, "204"): 1,
        ("GET", item, "404"): 1,
        ("POST", "/v1/assignments", "401"): 1,
        ("POST", "/v1/assignments", "422"): 1,
        ("GET", "other", "404"): 1,
    }
    assert not any(i in str(s.labels) for s in samples for i in ids)
    assert await demo.metric("demo_assignments_created_total", region=REGION) == 2


async def test_duration_histogram_per_route(demo: Demo) -> None:
    await demo.client.post("/auth/token", json={"client_id": "p", "client_secret": "demo-secret"})
    labels = {"method": "POST", "route": "/auth/token", "region": REGION}
    assert await demo.metric("http_request_duration_seconds_count", **labels) == 1
    for le in ("0.005", "0.1", "0.25", "0.5", "1.0", "2.5", "10.0", "+Inf"):
        assert (
            await demo.metric("http_request_duration_seconds_bucket", le=le, **labels) is not None
        )
    total = await demo.metric("http_request_duration_seconds_sum", **labels)
    assert total is not None and 0 < total < 1


async def test_health_metrics_and_admin_are_not_counted(demo: Demo) -> None:
    await demo.client.get("/health")
    await demo.client.get("/health/ready")
    await demo.client.get("/metrics")
    await demo.admin("GET")
    await demo.client.get("/admin/faults")
    assert [s for s in await demo.samples() if s.name == "http_requests_total"] == []


async def test_page_is_counted(demo: Demo) -> None:
    await demo.client.get("/")
    labels = {"method": "GET", "route": "/", "status": "200", "region": REGION}
    assert await demo.metric("http_requests_total", **labels) == 1


async def test_unknown_methods_fold_into_other(demo: Demo) -> None:
    await demo.client.request("BREW", "/v1/assignments")
    assert await demo.metric("http_requests_total", method="other", status="405") == 1


async def test_build_info_and_dependency_gauge(demo: Demo) -> None:
    build = {"version": "1.2.3", "revision": "unknown", "region": REGION}
    assert await demo.metric("demo_build_info", **build) == 1
    dependency = {"dependency": "database", "region": REGION}
    assert await demo.metric("demo_dependency_up", **dependency) == 1
    await demo.admin("PUT", {"dependency_down": True})
    assert await demo.metric("demo_dependency_up", **dependency) == 0
    await demo.admin("DELETE")
    assert await demo.metric("demo_dependency_up", **dependency) == 1


async def test_unhandled_error_is_counted_as_500_and_traced_as_error(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_get(self: AssignmentStore, assignment_id: str) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(AssignmentStore, "get", broken_get)
    headers = await demo.auth_headers()
    with pytest.raises(RuntimeError, match="bug"):
        await demo.client.get("/v1/assignments/x", headers=headers)

    labels = {"method": "GET", "route": "/v1/assignments/{assignment_id}", "status": "500"}
    assert await demo.metric("http_requests_total", **labels) == 1
    (server,) = [s for s in demo.spans() if s.name == "GET /v1/assignments/{assignment_id}"]
    assert server.status.status_code is StatusCode.ERROR
    assert [e.name for e in server.events] == ["exception"]
    assert any(r.log_record.body == "unhandled error" for r in demo.logs())
