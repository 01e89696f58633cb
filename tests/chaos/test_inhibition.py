"""The inhibition experiment (chaos/experiments/inhibition.json) on the real local stack, judged
by the shipped `not-ready-inhibits-error-alerts` and `service-down-inhibits-burn-alerts`
expectations: errors page (HighErrorRate), then the region is made not ready until
ServiceNotReady pages and holds for 20 s; readiness comes back, the errors go on until
ErrorBudgetBurnFast pages, and once HighErrorRate has resolved the region is killed until
ServiceDown pages and holds for 20 s, while the burn-rate alert still fires. The stack's
Alertmanager re-notifies a firing alert every `stack.repeat_interval` seconds.

With both inhibit rules removed from the stack's alertmanager.yml, HighErrorRate keeps reaching
the pager while ServiceNotReady fires and ErrorBudgetBurnFast while ServiceDown fires, and each
expectation fails naming those notifications; with the shipped config (restored, then the
experiment run again) both pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from signalcheck.chaos import faultlog
from signalcheck.chaos.actions import UNDO
from signalcheck.config import Config, load_config
from signalcheck.demo.faults import FaultState
from signalcheck.ledger import LEDGER_FILE, Ledger
from tests.chaos.conftest import (
    EXPERIMENTS,
    REGION,
    journal,
    judge,
    ledger,
    run_chaos,
    shipped,
    tail,
)
from tests.support import REPO

EXPERIMENT = EXPERIMENTS / "inhibition.json"
INHIBITION = "not-ready-inhibits-error-alerts"
NOT_READY_PAGES = "service-not-ready-pages"
ERRORS_PAGE = "high-error-rate-pages"
DOWN_INHIBITION = "service-down-inhibits-burn-alerts"
DOWN_PAGES = "service-down-pages"
RUN_TIMEOUT = 600.0
"""Seconds for one run: two alerts of `for: 30s` in turn and the 20 s hold; the burn-rate
alert's `for: 2m` from the errors; HighErrorRate resolving (its errors age out of the 1-minute
window); ServiceDown's `for: 30s`, the hold again, and the steady state after."""


# ---------------------------------------------------------------------------- no stack


def test_each_admin_fault_can_be_undone_alone() -> None:
    """clear_fault's undo of each admin fault is the demo's healthy value of that field."""
    assert set(UNDO) == set(faultlog.ADMIN_ACTIONS)
    healthy = FaultState().model_dump()
    for action, change in UNDO.items():
        assert change.items() <= healthy.items(), action


def test_readiness_is_restored_first_and_the_hold_covers_three_repeats() -> None:
    experiment = json.loads(EXPERIMENT.read_text())
    steps = [
        (a["provider"]["func"], a["provider"].get("arguments", {})) for a in experiment["method"]
    ]
    funcs = [func for func, _ in steps]
    assert funcs == ["inject_errors", "alert_fires", "inject_not_ready", "alert_fires",
                     "clear_fault", "alert_fires", "clear_faults", "alert_resolves",
                     "kill_region", "alert_fires", "start_region"]  # fmt: skip
    assert steps[4][1]["action"] == "not_ready"
    # the burn-rate alert pages (timed from the errors) before the errors end and the kill
    assert (steps[5][1]["name"], steps[5][1]["fault"]) == ("ErrorBudgetBurnFast", "errors")
    assert (steps[7][1]["name"], steps[9][1]["name"]) == ("HighErrorRate", "ServiceDown")
    assert [r["provider"]["func"] for r in experiment["rollbacks"]] == ["clear_faults"]
    for held in (3, 9):
        assert experiment["method"][held]["pauses"]["after"] == "${hold_seconds}"
    default_hold = experiment["configuration"]["hold_seconds"]["default"]
    repeat = load_config(REPO / "signalcheck.yaml", environ={}).stack.repeat_interval
    assert default_hold >= 3 * repeat


def test_shipped_expectations_wire_the_not_ready_fault() -> None:
    inhibition = shipped(INHIBITION)
    assert (inhibition.alert, inhibition.fault, inhibition.suppressed_by) == (
        "HighErrorRate", "not_ready", "ServiceNotReady"
    )  # fmt: skip
    assert inhibition.conditional and inhibition.receiver == "pager"
    pages = shipped(NOT_READY_PAGES)
    assert (pages.alert, pages.fault, pages.receiver) == ("ServiceNotReady", "not_ready", "pager")
    down = shipped(DOWN_INHIBITION)
    assert (down.alert, down.fault, down.suppressed_by, down.receiver) == (
        "ErrorBudgetBurnFast", "kill", "ServiceDown", "pager"
    )  # fmt: skip
    title = json.loads(EXPERIMENT.read_text())["title"]
    region_outage = json.loads((EXPERIMENTS / "region-outage.json").read_text())["title"]
    # judged on this experiment's kill only: the plain region outage has no burn to inhibit
    assert down.judges(title) and not down.judges(region_outage)


# --------------------------------------------------------------------------- the stack


@contextmanager
def inhibit_rules_removed(stack, config: Config) -> Iterator[None]:
    """The stack's alertmanager.yml without its inhibit rules, Alertmanager reloaded; the file
    restored and reloaded at the end."""
    path = stack.data_dir / "alertmanager.yml"
    original = path.read_text()
    document = yaml.safe_load(original)
    sources = sorted(m for r in document["inhibit_rules"] for m in r["source_matchers"])
    assert sources == ['alertname="ServiceDown"', 'alertname="ServiceNotReady"'], sources
    document["inhibit_rules"] = []
    reload = f"{config.backends.alertmanager.base_url}/-/reload"
    try:
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        httpx.post(reload, timeout=10).raise_for_status()
        yield
    finally:
        path.write_text(original)
        httpx.post(reload, timeout=10).raise_for_status()


def run_experiment(config: Config, run_dir: Path) -> None:
    ran = run_chaos(EXPERIMENT, config, run_dir, timeout=RUN_TIMEOUT)
    assert ran.returncode == 0, tail(ran.stderr)
    run = journal(run_dir)
    assert run["status"] == "completed", tail(ran.stderr)
    assert [r["status"] for r in run["run"]] == ["succeeded"] * len(run["run"]), tail(ran.stderr)
    faults = {f.field("action"): f for f in faultlog.faults(Ledger(run_dir / LEDGER_FILE))}
    assert set(faults) == {"errors", "not_ready", "kill"}
    # readiness restored first, then the errors, then the region killed
    assert faults["not_ready"].field("end") < faults["errors"].field("end")
    assert faults["errors"].field("end") < faults["kill"].field("start")


def measured(run_dir: Path) -> dict[str, dict[str, float]]:
    """Per alert, seconds from its fault's start to firing and to its notification (as the
    experiment's alert_fires probes saw them), and the floor its rule implies."""
    return {
        e.field("alert"): {
            "fire": round(e.field("fired_at") - e.field("fault_start"), 1),
            "notify": round(e.field("notified_at") - e.field("fault_start"), 1),
            "floor": e.field("floor_seconds"),
        }
        for e in ledger(run_dir)
        if e.kind == "detection"
    }


@pytest.mark.stack
@pytest.mark.slow
@pytest.mark.xdist_group("chaos/inhibition-removed")  # its own worker and stack: five minutes
def test_without_the_inhibit_rules_the_inhibition_expectations_fail_naming_the_leaks(
    stack, stack_config, traffic, tmp_path: Path
) -> None:
    with inhibit_rules_removed(stack, stack_config):
        run_experiment(stack_config, tmp_path / "run")
    print("measured (inhibit rules removed):", measured(tmp_path / "run"))

    leaks = {INHIBITION: ("HighErrorRate", "ServiceNotReady"),
             DOWN_INHIBITION: ("ErrorBudgetBurnFast", "ServiceDown")}  # fmt: skip
    for name, (inhibited, inhibitor) in leaks.items():
        outcome = judge(stack_config, tmp_path / "run", shipped(name))
        print(f"{name} (inhibit rules removed):", outcome.summary)
        assert not outcome.passed, outcome.summary
        assert f"{inhibited} for {REGION} reached a receiver" in outcome.summary, outcome.summary
        assert f"while {inhibitor} fired" in outcome.summary
        assert "firing to 'pager' at +" in outcome.summary
    # the rest of the run is sound: only the inhibitions are missing
    for name in (NOT_READY_PAGES, DOWN_PAGES):
        assert judge(stack_config, tmp_path / "run", shipped(name)).passed, name


@pytest.mark.stack
@pytest.mark.slow
def test_with_the_shipped_config_the_inhibition_expectations_pass(
    stack, stack_config, traffic, tmp_path: Path
) -> None:
    run_experiment(stack_config, tmp_path / "run")
    times = measured(tmp_path / "run")
    print("measured (shipped config):", times)

    for name in (INHIBITION, NOT_READY_PAGES, ERRORS_PAGE, DOWN_INHIBITION, DOWN_PAGES):
        outcome = judge(stack_config, tmp_path / "run", shipped(name))
        assert outcome.passed, f"{name}: {outcome.summary}"
    for alert in ("HighErrorRate", "ServiceNotReady", "ServiceDown"):
        assert times[alert]["floor"] - 0.5 <= times[alert]["notify"] <= 45, times
    assert times["ErrorBudgetBurnFast"]["notify"] <= 180, times
