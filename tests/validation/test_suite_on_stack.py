"""`pytest validation/` against the real local stack: healthy passes; an unreachable backend
fails fast; twenty probe-and-validate cycles in a row are not flaky; a fault's alert fires,
routes and resolves, and a misroute fails. Telemetry broken on purpose, one change at a time,
is the mutant suite's job (tests/mutants).

Every ledger's probe entries come from a real probe pass (`signalcheck probe --once`, the
shipped checks, pushed to the stack's Pushgateway), so the shipped expectations are judged
against real probe evidence: workflow traces, logs and counts, browser traces and the
synthetic_* series. The stack's Pushgateway keeps no state between stacks (no persistence
file), and each pass PUTs every region's group, so only this stack's results are judged.

The tests run in file order on one stack; the alert test runs last because the alerts it
fires outlive it.
"""

from __future__ import annotations

import time

import httpx
import pytest
import yaml

from signalcheck.backends.capture import CaptureClient
from signalcheck.config import load_config
from signalcheck.evidence import verifications_for
from signalcheck.waiting import wait_for
from tests.support import free_port
from tests.validation.support import (
    healthy_run,
    new_ledger,
    probe_pass,
    run_suite,
)

pytestmark = [pytest.mark.stack, pytest.mark.slow]

ALERT_WAIT = 90.0


def assert_all_passed(run) -> None:
    assert run.returncode == 0, run.output[-4000:]
    assert run.failed() == set(), run.output[-4000:]


def test_healthy_stack_passes_after_a_probe_pass(probe_config, suite_config):
    run = healthy_run(probe_config, suite_config)
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
        "probes:probe-results-in-prometheus",
        "targets:demo-targets-up-with-region",
        "cardinality:demo-http-cardinality",
        "cardinality:rum-cardinality",
        "rum:browser-sessions-in-rum-store",
    } <= passed
    skipped = {name for name, r in run.results.items() if r.outcome == "skipped"}
    assert skipped == {name for name in run.results if name.split(":")[0] in ("alerts", "load")}
    for name in skipped:
        assert "conditional: this run planned no" in run.results[name].message
    trace = run.results["traces:probe-traces-complete"]
    assert float(trace.properties["time_to_appear_s"]) < 15


def test_unreachable_backend_fails_fast_once_naming_it(probe_config, suite_config):
    ledger = new_ledger(probe_config)
    probe_pass(probe_config, ledger)
    dead = f"http://127.0.0.1:{free_port()}"
    run = run_suite(suite_config, ledger.path, env={"SIGNALCHECK_PROMETHEUS_URL": dead})
    prometheus_checks = {
        name
        for name in run.results
        if name.split(":")[0]
        in ("metrics", "probes", "targets", "cardinality", "rum", "rules", "quiet")
    }
    assert run.failed() == prometheus_checks
    for name in prometheus_checks:
        assert f"backend prometheus ({dead}) failed its check" in run.results[name].message
    budgets = sum(
        v.expectation.budget
        for v in verifications_for(probe_config.expectations)
        if v.id in prometheus_checks
    )
    assert run.seconds < budgets, "an unreachable backend must not wait out every budget"


def _assert_fails_only(run, failing: set[str], named: str, cause: str) -> None:
    """Exactly `failing` failed, and the test `named` says `cause`."""
    assert run.returncode == 1, run.output[-4000:]
    assert run.failed() == failing, run.output[-4000:]
    assert cause in run.results[named].message, run.results[named].message


def _reload(url: str) -> None:
    httpx.post(f"{url}/-/reload", timeout=10).raise_for_status()


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


BURN_RATE_ALERTS = ["ErrorBudgetBurnFast", "ErrorBudgetBurnSlow"]
"""What an errors fault may set off besides HighErrorRate (error-injection.json's mark says so:
the burn rates go pending at once)."""


def _fault(ledger, admin, region: str, start: float | None = None) -> float:
    """Inject (start None) or restore the errors fault of `region`, writing the ledger as the
    chaos control does: planned (with the alerts its mark declares), then opened and closed."""
    params = {"error_rate": 1.0}
    if start is None:
        ledger.append("planned", actor="fault", action="errors", region=region, experiment=None,
                      probed=False, alerts=BURN_RATE_ALERTS)  # fmt: skip
        start = time.time()  # before the call: the fault's first error logs may precede its answer
        admin(region, "PUT", json=params)
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
        # the next fault (another region) starts after the healthy run's quiet window ends:
        # its alerts pending at once (the burn rates) would be strays of the healthy run
        time.sleep(load_config(suite_config, environ={}).expectations.quiet[0].budget + 1)
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
