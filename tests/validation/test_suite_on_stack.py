"""`pytest validation/` against the real local stack: healthy passes; telemetry broken on
purpose fails in the test naming that signal, with a message pointing at the cause; the
healthy stack passes again afterwards; twenty runs in a row are not flaky.

Every ledger's probe entries come from a real probe pass (`signalcheck probe --once`, the
shipped checks, pushed to the stack's Pushgateway), so the shipped expectations are judged
against real probe evidence: workflow traces, logs and counts, browser traces and the
synthetic_* series. The stack's Pushgateway keeps no state between stacks (no persistence
file), and each pass PUTs every region's group, so only this stack's results are judged.

The tests run in file order on one stack; the alert test runs last because the alerts it
fires outlive it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config, load_config
from signalcheck.waiting import wait_for
from tests.support import REPO, free_port
from tests.validation.support import (
    new_ledger,
    probe_pass,
    run_suite,
    write_suite_config,
)

pytestmark = [pytest.mark.stack, pytest.mark.slow]

ALERT_WAIT = 90.0


@pytest.fixture(scope="module")
def suite_config(stack, stack_config) -> Path:
    return write_suite_config(stack_config.source)


@pytest.fixture(scope="module")
def probe_config(suite_config) -> Config:
    """The stack's config with the shipped checks: what `signalcheck probe --once` runs."""
    return load_config(suite_config, environ={})


def _healthy_run(probe_config, suite_config):
    ledger = new_ledger(probe_config)
    probe_pass(probe_config, ledger)
    return run_suite(suite_config, ledger.path)


def assert_all_passed(run) -> None:
    assert run.returncode == 0, run.output[-4000:]
    assert run.failed() == set(), run.output[-4000:]


def test_healthy_stack_passes_after_a_probe_pass(probe_config, suite_config):
    run = _healthy_run(probe_config, suite_config)
    assert_all_passed(run)
    passed = {name for name, r in run.results.items() if r.outcome == "passed"}
    assert {
        "metrics:demo-requests-every-region",
        "metrics:probe-assignments-counted",
        "traces:probe-traces-complete",
        "traces:browser-traces-complete",
        "logs:probe-logs-carry-trace-ids",
        "logs:no-error-logs-outside-faults",
        "rules:rule-metrics-exist",
        "quiet:no-unexpected-alerts",
    } <= passed
    trace = run.results["traces:probe-traces-complete"]
    assert float(trace.properties["time_to_appear_s"]) < 15


def test_unreachable_backend_fails_fast_once_naming_it(probe_config, suite_config):
    ledger = new_ledger(probe_config)
    probe_pass(probe_config, ledger)
    dead = f"http://127.0.0.1:{free_port()}"
    run = run_suite(suite_config, ledger.path, env={"SIGNALCHECK_PROMETHEUS_URL": dead})
    prometheus_checks = {
        name for name in run.results if name.split(":")[0] in ("metrics", "rules", "quiet")
    }
    assert run.failed() == prometheus_checks
    for name in prometheus_checks:
        assert f"backend prometheus ({dead}) failed its check" in run.results[name].message
    assert run.seconds < 20, "an unreachable backend must not wait out every budget"


# ---------------------------------------------------------------- broken on purpose
# Each break is made with a helper (an edited target file, a demo process with a telemetry
# defect, an extra rule file, a misrouting Alertmanager route); the evidence judged is a real
# probe pass's. Only the alert test writes its `fault` entries itself (see its docstring).


def _demo_targets(stack) -> Path:
    return stack.data_dir / "targets" / "demo.json"


def _wait_scraped(stack_config, region: str, port: int) -> None:
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        wait_for(
            lambda: [
                t
                for t in prometheus.targets()
                if t["labels"].get("region") == region
                and t["scrapeUrl"].startswith(f"http://127.0.0.1:{port}/")
                and t["health"] == "up"
            ],
            timeout=20,
            what=f"Prometheus scraping {region} at port {port}",
        )


@contextmanager
def _scrape_target(stack, stack_config, region: str, port: int | None) -> Iterator[None]:
    """Point the rendered file_sd target of `region` at `port` (None: remove it)."""
    path = _demo_targets(stack)
    original = path.read_text()
    groups = [g for g in json.loads(original) if g["labels"]["region"] != region]
    if port is not None:
        groups.append({"targets": [f"127.0.0.1:{port}"], "labels": {"region": region}})
    path.write_text(json.dumps(groups))
    try:
        if port is not None:
            _wait_scraped(stack_config, region, port)
        yield
    finally:
        path.write_text(original)
        _wait_scraped(stack_config, region, stack_config.regions[region].port)
        if port is not None:
            _wait_stale(stack_config, f"127.0.0.1:{port}")


def _wait_stale(stack_config, instance: str) -> None:
    """Wait until the series of a dropped target are marked stale (no longer summed)."""
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        wait_for(
            lambda: not prometheus.query(f'{{instance="{instance}"}}'),
            timeout=20,
            what=f"the series of {instance} to go stale",
        )


@contextmanager
def _broken_demo(stack, stack_config, defect: str, region: str) -> Iterator[str]:
    """A demo process for `region` with one telemetry defect (tests/mutants/broken_demo),
    scraped in place of the healthy one; yields its base URL."""
    port = free_port()
    data = stack.data_dir
    env = {
        **os.environ,
        "MUTANT": defect,
        "REGION": region,
        "PORT": str(port),
        "DEMO_DB_PATH": str(data / f"broken-{defect}.db"),
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack_config.backends.capture.base_url,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
    }
    log = (data / "logs" / f"broken-{defect}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.mutants.broken_demo"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url + "/health"), timeout=20, what=f"broken demo at {url}")
        with _scrape_target(stack, stack_config, region, port):
            time.sleep(stack_config.stack.scrape_interval * 2)  # a baseline sample first
            yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _assert_fails_only(run, failing: set[str], named: str, cause: str) -> None:
    """Exactly `failing` failed, and the test `named` says `cause`."""
    assert run.returncode == 1, run.output[-4000:]
    assert run.failed() == failing, run.output[-4000:]
    assert cause in run.results[named].message, run.results[named].message


def test_scrape_target_removed_fails_the_metric_tests_naming_the_region(
    stack, stack_config, probe_config, suite_config
):
    with _scrape_target(stack, stack_config, "eu-west-1", None):
        with PrometheusClient(stack_config.backends.prometheus) as prometheus:
            wait_for(
                lambda: not prometheus.query('up{job="demo",region="eu-west-1"}'),
                timeout=20,
                what="the eu-west-1 series to go stale",
            )
        ledger = new_ledger(probe_config)
        probe_pass(probe_config, ledger)
        run = run_suite(suite_config, ledger.path)
    assert run.returncode == 1
    assert run.failed() == {
        "metrics:demo-requests-every-region",
        "metrics:demo-dependency-up",
        "metrics:probe-assignments-counted",
    }, run.output[-4000:]
    message = run.results["metrics:demo-requests-every-region"].message
    assert "no series for region(s) eu-west-1" in message
    assert 'http_requests_total{job="demo"}' in message  # the exact query
    assert (
        "eu-west-1: counter rose by 0" in run.results["metrics:probe-assignments-counted"].message
    )
    assert_all_passed(_healthy_run(probe_config, suite_config))


def test_trace_context_not_propagated_fails_the_trace_test(
    stack, stack_config, probe_config, suite_config
):
    with _broken_demo(stack, stack_config, "traceparent", "eu-west-1") as url:
        ledger = new_ledger(probe_config)
        probe_pass(probe_config, ledger, base_urls={"eu-west-1": url})
        run = run_suite(suite_config, ledger.path)
    # Both checks' traces (workflow and browser) are lost; logs carry the service's new trace
    # ids instead of the probe's: they fail too, by cause.
    _assert_fails_only(
        run,
        {
            "traces:probe-traces-complete",
            "traces:browser-traces-complete",
            "logs:probe-logs-carry-trace-ids",
        },
        "traces:probe-traces-complete",
        "trace context was not propagated",
    )
    for name in ("traces:browser-traces-complete", "logs:probe-logs-carry-trace-ids"):
        assert "trace context was not propagated" in run.results[name].message, name
    assert (
        "(assignment-lifecycle, eu-west-1): not found"
        in run.results["traces:probe-traces-complete"].message
    )
    assert (
        "(home-page, eu-west-1): not found" in run.results["traces:browser-traces-complete"].message
    )
    assert_all_passed(_healthy_run(probe_config, suite_config))


def test_logs_without_trace_ids_fail_the_log_test(stack, stack_config, probe_config, suite_config):
    with _broken_demo(stack, stack_config, "log_trace_ids", "eu-west-1") as url:
        ledger = new_ledger(probe_config)
        probe_pass(probe_config, ledger, base_urls={"eu-west-1": url})
        run = run_suite(suite_config, ledger.path)
    logs = "logs:probe-logs-carry-trace-ids"
    _assert_fails_only(run, {logs}, logs, "logs do not carry the trace context")
    assert "eu-west-1" in run.results["logs:probe-logs-carry-trace-ids"].message
    assert_all_passed(_healthy_run(probe_config, suite_config))


MISSPELLED_RULE = {
    "groups": [
        {
            "name": "demo-api-traffic",
            "rules": [
                {
                    "alert": "NoTraffic",
                    "expr": 'sum(rate(http_request_total{job="demo"}[1m])) == 0',
                    "for": "5m",
                    "labels": {"severity": "warning", "priority": "P2"},
                }
            ],
        }
    ]
}


def _reload(url: str) -> None:
    httpx.post(f"{url}/-/reload", timeout=10).raise_for_status()


def test_rule_with_misspelled_metric_fails_the_rules_test(
    stack, stack_config, probe_config, suite_config, tmp_path
):
    rule_file = tmp_path / "misspelled.yml"
    rule_file.write_text(yaml.safe_dump(MISSPELLED_RULE))
    prometheus_yml = stack.data_dir / "prometheus.yml"
    original = prometheus_yml.read_text()
    rendered = yaml.safe_load(original)
    rendered["rule_files"].append(str(rule_file))
    prometheus_yml.write_text(yaml.safe_dump(rendered))
    prometheus_url = stack_config.backends.prometheus.base_url
    try:
        _reload(prometheus_url)
        ledger = new_ledger(probe_config)
        probe_pass(probe_config, ledger)
        run = run_suite(suite_config, ledger.path)
    finally:
        prometheus_yml.write_text(original)
        _reload(prometheus_url)
    rules = "rules:rule-metrics-exist"
    _assert_fails_only(run, {rules}, rules, "rule NoTraffic")
    message = run.results["rules:rule-metrics-exist"].message
    assert "uses http_request_total, which no series in Prometheus has" in message
    assert "did you mean http_requests_total?" in message
    assert_all_passed(_healthy_run(probe_config, suite_config))


def test_twenty_consecutive_runs_on_the_healthy_stack_pass(probe_config, suite_config):
    """One real probe pass, then twenty `pytest validation/` runs judging its ledger."""
    ledger = new_ledger(probe_config)
    probe_pass(probe_config, ledger)
    durations = []
    for number in range(20):
        run = run_suite(suite_config, ledger.path)
        assert run.failed() == set(), f"run {number + 1} of 20:\n{run.output[-4000:]}"
        assert run.returncode == 0
        durations.append(run.seconds)
    assert max(durations) < 30, durations


# ---------------------------------------------------------------------------- alerts


def _route_region_p0_to(stack, region: str, receiver: str) -> str:
    """Put a route sending P0 alerts of `region` to `receiver` first; return the original."""
    path = stack.data_dir / "alertmanager.yml"
    original = path.read_text()
    config = yaml.safe_load(original)
    config["route"]["routes"].insert(
        0, {"receiver": receiver, "matchers": ['priority="P0"', f'region="{region}"']}
    )
    path.write_text(yaml.safe_dump(config))
    return original


def _fault(ledger, admin, region: str, start: float | None = None) -> float:
    """Inject (start None) or restore the errors fault of `region`, writing the ledger."""
    params = {"error_rate": 1.0}
    if start is None:
        admin(region, "PUT", json=params)
        start = time.time()
        ledger.append("fault", action="errors", region=region, start=start, end=None, params=params)
    else:
        admin(region, "DELETE")
        ledger.append(
            "fault", action="errors", region=region, start=start, end=time.time(), params=params
        )
    return start


def test_fault_alert_fires_routes_resolves_and_a_misroute_fails(
    stack, stack_config, probe_config, suite_config, admin, traffic
):
    """A real probe pass, then an errors fault through the demo's admin API. The `fault`
    entries are written by the `_fault` helper, not by `signalcheck chaos` (its room is
    still being built): the ledger fields are the contract's, the fault itself is real."""
    capture = CaptureClient(stack_config.backends.capture)
    alertmanager_url = stack_config.backends.alertmanager.base_url
    original_routes = _route_region_p0_to(stack, "ap-south-1", "chat")
    _reload(alertmanager_url)
    try:
        healthy = new_ledger(probe_config)
        probe_pass(probe_config, healthy)
        start_h = _fault(healthy, admin, "eu-west-1")
        wait_for(
            lambda: capture.notifications(alertname="HighErrorRate", since=start_h),
            timeout=ALERT_WAIT,
            what="HighErrorRate notification for eu-west-1",
        )
        firing = run_suite(suite_config, healthy.path)
        # Fired and routed, but the fault is still open: its resolution cannot be judged yet.
        _assert_fails_only(
            firing,
            {"alerts:high-error-rate-pages"},
            "alerts:high-error-rate-pages",
            "the errors fault in eu-west-1 was never restored",
        )

        _fault(healthy, admin, "eu-west-1", start=start_h)
        misrouted = new_ledger(stack_config)
        start_m = _fault(misrouted, admin, "ap-south-1")
        wait_for(
            lambda: capture.notifications(
                alertname="HighErrorRate", since=start_m, label="region=ap-south-1"
            ),
            timeout=ALERT_WAIT,
            what="HighErrorRate notification for ap-south-1",
        )
        broken = run_suite(suite_config, misrouted.path, "-k", "alerts:high-error-rate-pages")
        _fault(misrouted, admin, "ap-south-1", start=start_m)
        _assert_fails_only(
            broken,
            {"alerts:high-error-rate-pages"},
            "alerts:high-error-rate-pages",
            "HighErrorRate for ap-south-1 reached receiver(s) ['chat'], expected 'pager'",
        )
    finally:
        (stack.data_dir / "alertmanager.yml").write_text(original_routes)
        _reload(alertmanager_url)
        capture.close()
    resolved = run_suite(suite_config, healthy.path)
    assert_all_passed(resolved)
    fired = resolved.results["alerts:high-error-rate-pages"]
    assert fired.outcome == "passed"
    assert float(fired.properties["time_to_appear_s"]) <= 90
