"""The probes against the real local stack: Prometheus, Alertmanager, Pushgateway, capture
receiver and three demo regions. The last test kills eu-west-1: keep it last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from signalcheck import processes
from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.backends.pushgateway import PushgatewayClient
from signalcheck.config import Config
from signalcheck.ledger import read_entries
from signalcheck.stack import LocalStack
from signalcheck.waiting import wait_for
from tests.probes.conftest import reference_checks

pytestmark = [pytest.mark.stack, pytest.mark.slow]

CHECKS = {check["name"] for check in reference_checks()}
WORKFLOW_SPANS = {
    "POST /auth/token",
    "POST /v1/assignments",
    "GET /v1/assignments/{assignment_id}",
    "DELETE /v1/assignments/{assignment_id}",
}
ALERT_TIMEOUT = 90  # `for: 30s`, 1 s scrape and evaluation, a little slack for 2 busy cores


def probe_once(config: Config, *args: str) -> tuple[int, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNALCHECK_")}
    done = subprocess.run(
        [sys.executable, "-m", "signalcheck", "probe", "--once", "--config", str(config.source),
         *args],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def firing(prometheus: PrometheusClient, alertname: str) -> list[dict[str, str]]:
    return [
        alert["labels"]
        for alert in prometheus.alerts()
        if alert["labels"]["alertname"] == alertname and alert["state"] == "firing"
    ]


def test_all_checks_pass_in_every_region_with_one_push_group_each(stack, stack_config) -> None:
    code, summary = probe_once(stack_config)
    assert code == 0, [r["error"] for r in summary["results"] if r["error"]]
    regions = set(stack_config.regions)
    assert {(r["region"], r["check"]) for r in summary["results"]} == {
        (region, check) for region in regions for check in CHECKS
    }
    for result in summary["results"]:
        if result["check_type"] == "browser":
            vitals = result["web_vitals"]
            assert vitals["fcp"] > 0 and vitals["ttfb"] > 0 and vitals["lcp"] > 0, result
            assert vitals["cls"] is not None and vitals["cls"] >= 0, result
        if result["check_type"] == "http":
            assert result["phases"]["connect"] > 0 and result["phases"]["processing"] > 0

    with PushgatewayClient(stack_config.backends.pushgateway) as pushgateway:
        groups = [
            g["labels"]
            for g in pushgateway.groups()
            if g["labels"].get("job") == "synthetic-probes"
        ]
    assert sorted(groups, key=lambda g: g["region"]) == sorted(
        [{"job": "synthetic-probes", "region": region} for region in regions],
        key=lambda g: g["region"],
    )

    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        wait_for(
            lambda: (
                len(prometheus.query('synthetic_check_success{job="synthetic-probes"} == 1'))
                == len(regions) * len(CHECKS)
            ),
            timeout=30,
            what="every region's pushed results in Prometheus",
        )


def test_probe_traces_reach_the_capture_store(stack, stack_config) -> None:
    code, summary = probe_once(stack_config, "--region", "us-east-1")
    assert code == 0
    entries = {e.field("check"): e for e in read_entries(summary["ledger"]) if e.kind == "probe"}
    assert set(entries) == CHECKS
    with CaptureClient(stack_config.backends.capture) as capture:
        expected = {
            "assignment-lifecycle": WORKFLOW_SPANS,
            "health": {"GET /health"},
            # The page's own fetch carries the RUM SDK's traceparent (its api_call event
            # names that trace), so the probe's trace holds the page load only.
            "home-page": {"GET /"},
        }
        for check, names in expected.items():
            trace_id = entries[check].field("trace_id")
            spans, _ = wait_for(
                lambda trace_id=trace_id, names=names: (
                    (found := capture.trace(trace_id))
                    and names <= {s["name"] for s in found}
                    and found
                ),
                timeout=20,
                what=f"the spans {sorted(names)} of {check}'s trace {trace_id}",
            )
            assert {s["service"] for s in spans} == {"demo-api"}
            assert {s["trace_id"] for s in spans} == {trace_id}


def test_a_killed_region_and_injected_latency_page_for_their_region_alone(
    stack: LocalStack, stack_config
) -> None:
    token = stack.admin_token_path.read_text().strip()
    slow = str(stack_config.regions["ap-south-1"].base_url).rstrip("/") + "/admin/faults"
    admin = {"Authorization": f"Bearer {token}"}
    httpx.put(slow, json={"latency_ms": 1500}, headers=admin, timeout=5).raise_for_status()
    try:
        (killed,) = [item for item in stack.running() if item.name == "demo-eu-west-1"]
        processes.stop(killed)
        code, summary = probe_once(stack_config)
    finally:
        httpx.delete(slow, headers=admin, timeout=5)

    assert code == 1
    failed = {(r["region"], r["check"], r["error_class"]) for r in summary["results"] if r["error"]}
    assert failed == {("eu-west-1", check, "connect_error") for check in CHECKS}
    (slow_workflow,) = [
        r for r in summary["results"]
        if (r["region"], r["check"]) == ("ap-south-1", "assignment-lifecycle")
    ]  # fmt: skip
    assert slow_workflow["duration"] > 4 * 1.5

    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        failing, _ = wait_for(
            lambda: (
                len(found := firing(prometheus, "SyntheticCheckFailing")) >= len(CHECKS) and found
            ),
            timeout=ALERT_TIMEOUT,
            what="SyntheticCheckFailing to fire for eu-west-1's checks",
        )
        assert {(a["region"], a["check"]) for a in failing} == {
            ("eu-west-1", check) for check in CHECKS
        }
        slow_alerts, _ = wait_for(
            lambda: firing(prometheus, "SyntheticHighLatency"),
            timeout=ALERT_TIMEOUT,
            what="SyntheticHighLatency to fire for ap-south-1",
        )
        assert [(a["region"], a["endpoint"]) for a in slow_alerts] == [
            ("ap-south-1", "assignment-lifecycle")
        ]
        assert {(a["region"], a["check"]) for a in firing(prometheus, "SyntheticCheckFailing")} == {
            ("eu-west-1", check) for check in CHECKS
        }
