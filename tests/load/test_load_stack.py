"""Load against a real local stack: the ledger's counts, the service's counter, thresholds."""

from __future__ import annotations

import time

import httpx
import pytest

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.evidence.load import load_accuracy, prometheus_error_rate
from signalcheck.expectations import LoadExpectation
from tests.load.conftest import REGION, finish, load_entries, signalcheck_load

pytestmark = [pytest.mark.stack, pytest.mark.slow]

WORKFLOW_ROUTES = {"/auth/token", "/v1/assignments", "/v1/assignments/{assignment_id}"}
LEDGER_FIELDS = {
    "ts", "kind", "profile", "shape", "region", "start", "end", "users", "workers", "requests",
    "rum_requests", "other_requests", "total_requests", "failures", "error_rate", "p95_ms",
    "thresholds", "passed", "locustfile", "user_classes", "user_mix",
}  # fmt: skip


def accuracy(stack_config, entry):
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        settings = LoadExpectation(
            name="accuracy", settle=2 * stack_config.stack.scrape_interval, tolerance=0.01
        )
        return load_accuracy(prometheus, entry, settings)


def assert_ledger_shape(entry, workers: int) -> None:
    assert set(entry.model_dump()) == LEDGER_FIELDS
    assert entry.field("region") == REGION
    assert entry.field("workers") == workers
    assert entry.field("start") < entry.field("end")
    requests = entry.field("requests")
    assert set(requests) >= WORKFLOW_ROUTES
    assert all(isinstance(n, int) and n > 0 for c in requests.values() for n in c.values())
    assert sum(n for c in requests.values() for n in c.values()) == entry.field("total_requests")


def test_ramp_is_counted_by_the_service_and_passes_its_thresholds(stack, stack_config):
    process = signalcheck_load(
        stack_config.source, "--profile", "ramp", "--region", REGION, "--duration", "20s"
    )
    code, output = finish(process, timeout=90)
    assert code == 0, output
    assert "error_rate" in output and "pass" in output
    [entry] = load_entries(stack_config)[-1:]
    assert_ledger_shape(entry, workers=0)
    assert entry.field("users") == 15 and entry.field("passed")
    run_dir = next(stack_config.runs_dir.glob("*/ledger.jsonl")).parent
    assert (run_dir / "locust_stats.csv").exists() and (run_dir / "locust-report.html").exists()
    result = accuracy(stack_config, entry)
    assert result.passed, result.describe()
    assert {row.route for row in result.rows} >= WORKFLOW_ROUTES


def test_injected_errors_are_measured_alike_and_break_the_error_threshold(stack, stack_config):
    admin_url = f"{str(stack_config.regions[REGION].base_url).rstrip('/')}/admin/faults"
    headers = {"Authorization": f"Bearer {stack.admin_token_path.read_text().strip()}"}
    process = signalcheck_load(stack_config.source, "--profile", "api-ramp", "--region", REGION)
    try:
        time.sleep(3)
        httpx.put(
            admin_url, json={"error_rate": 0.3}, headers=headers, timeout=5
        ).raise_for_status()
        code, output = finish(process, timeout=90)
    finally:
        httpx.delete(admin_url, headers=headers, timeout=5).raise_for_status()
    assert code == 1, output
    entry = load_entries(stack_config)[-1]
    [error_rate] = [t for t in entry.field("thresholds") if t["name"] == "error_rate"]
    assert not error_rate["passed"] and not entry.field("passed")
    locust_rate = entry.field("error_rate")
    assert locust_rate > 0.1
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        counted_rate = prometheus_error_rate(
            prometheus,
            REGION,
            entry.field("start"),
            entry.field("end"),
            LoadExpectation(name="error-rate", settle=2.0),
        )
    assert counted_rate is not None
    assert abs(locust_rate - counted_rate) <= 0.02, (locust_rate, counted_rate)
    result = accuracy(stack_config, entry)
    assert result.passed, result.describe()


def test_two_local_workers_write_the_same_ledger_shape(stack, stack_config):
    process = signalcheck_load(
        stack_config.source, "--profile", "ramp", "--region", REGION, "--duration", "12s",
        "--workers", "2",
    )  # fmt: skip
    code, output = finish(process, timeout=120)
    assert code == 0, output
    entry = load_entries(stack_config)[-1]
    assert_ledger_shape(entry, workers=2)
    result = accuracy(stack_config, entry)
    assert result.passed, result.describe()


def test_rum_users_post_batches_the_ingest_accepts_and_counts(stack, stack_config):
    batches = 'sum(rum_ingest_batches_total{job="rum-ingest",status=~"2.."})'
    key = {"SIGNALCHECK_RUM_API_KEY": stack.rum_api_key_path.read_text().strip()}
    process = signalcheck_load(stack_config.source, "--profile", "rum", "--region", REGION, env=key)
    code, output = finish(process, timeout=90)
    assert code == 0, output
    entry = load_entries(stack_config)[-1]
    assert entry.field("requests") == {}
    [(route, classes)] = entry.field("rum_requests").items()
    assert route == "/v1/events" and set(classes) == {"2xx"} and classes["2xx"] > 5
    time.sleep(2 * stack_config.stack.scrape_interval)
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        before, after = (
            prometheus.query(f"{batches} or vector(0)", time=at)
            for at in (entry.field("start"), entry.field("end") + 2)
        )
    assert float(after[0]["value"][1]) - float(before[0]["value"][1]) == classes["2xx"]
