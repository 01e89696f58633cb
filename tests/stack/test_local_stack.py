"""The local stack against the real binaries: targets, the Pushgateway, trace propagation."""

from __future__ import annotations

import secrets

import httpx
import pytest

from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.waiting import wait_for

pytestmark = [pytest.mark.stack, pytest.mark.slow]

# An injected fault firing its alert for its region alone, routed and resolved, is the chaos
# experiments' test (tests/chaos/test_experiments.py) and the validation suite's
# (tests/validation/test_suite_on_stack.py).


def test_prometheus_reports_every_target_up(stack, stack_config):
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        targets = prometheus.targets()
    health = {(t["labels"]["job"], t["labels"].get("region")): t["health"] for t in targets}
    expected = {("demo", region) for region in stack_config.regions}
    expected |= {("prometheus", None), ("alertmanager", None), ("pushgateway", None)}
    expected |= {("rum-ingest", None)}
    assert set(health) == expected
    assert set(health.values()) == {"up"}


def test_the_pushgateway_keeps_pushes_in_memory_only(stack, stack_config):
    """Debian's Pushgateway persists to one machine-wide file by default: every stack loaded
    the groups the last one pushed, so a region pushed slow in one test alerted in the next
    stack's. The stack's Pushgateway starts empty and writes nothing."""
    status = httpx.get(f"{stack_config.backends.pushgateway.base_url}/api/v1/status", timeout=5)
    assert status.json()["data"]["flags"]["persistence.file"] == ""


def test_a_callers_trace_continues_into_the_demo_with_spans_and_logs(stack, stack_config):
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    base = str(stack_config.regions["us-east-1"].base_url).rstrip("/")
    with httpx.Client(base_url=base, timeout=5, headers={"traceparent": traceparent}) as demo:
        token = demo.post(
            "/auth/token", json={"client_id": "tests", "client_secret": "demo-secret"}
        ).json()["access_token"]
        created = demo.post(
            "/v1/assignments",
            json={"title": "check traces", "priority": "high"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert created.status_code == 201

    with CaptureClient(stack_config.backends.capture) as capture:

        def complete_trace():
            spans = capture.trace(trace_id)
            names = {s["name"] for s in spans}
            has_children = any(s["parent_span_id"] and s["kind"] != "SERVER" for s in spans)
            return spans if "POST /v1/assignments" in names and has_children else None

        spans, _ = wait_for(complete_trace, timeout=10, what=f"trace {trace_id} in capture")
        logs, _ = wait_for(
            lambda: capture.logs(trace_id=trace_id),
            timeout=10,
            what=f"log records carrying trace {trace_id}",
        )
    servers = [s for s in spans if s["kind"] == "SERVER"]
    assert {s["name"] for s in servers} == {"POST /auth/token", "POST /v1/assignments"}
    assert all(s["service"] == "demo-api" for s in spans)
    assert {s["resource"].get("cloud.region") for s in spans} == {"us-east-1"}
    server_ids = {s["span_id"] for s in servers}
    children = [s for s in spans if s["parent_span_id"] in server_ids]
    assert any(s["name"].startswith("db.") for s in children)
    assert any(s["name"].startswith("notify.") for s in children)
    assert all(log["trace_id"] == trace_id and log["span_id"] for log in logs)


def test_a_region_can_be_killed_and_started_again(stack, stack_config):
    base = str(stack_config.regions["ap-south-1"].base_url).rstrip("/")
    before = {row.name: row for row in stack.status()}["demo-ap-south-1"]

    stack.stop_component("demo-ap-south-1")
    killed = {row.name: row for row in stack.status()}["demo-ap-south-1"]
    assert (killed.running, killed.healthy) == (False, False)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/health", timeout=2)

    restarted = stack.start_component("demo-ap-south-1")
    assert restarted.pid != before.pid
    assert httpx.get(f"{base}/health", timeout=2).status_code == 200
    assert all(row.healthy for row in stack.status())
