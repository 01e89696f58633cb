"""The inhibition experiment (chaos/experiments/inhibition.json) on the real local stack, judged
by the shipped `not-ready-inhibits-error-alerts` expectation: errors page (HighErrorRate), then
the region is made not ready until ServiceNotReady pages and holds for 20 s, while the stack's
Alertmanager re-notifies a firing alert every `stack.repeat_interval` seconds.

With the ServiceNotReady inhibit rule removed from the stack's alertmanager.yml, HighErrorRate
keeps reaching the pager while ServiceNotReady fires, and the expectation fails naming those
notifications; with the shipped config (restored, then the experiment run again) it passes.
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
RUN_TIMEOUT = 360.0
"""Seconds for one run: two alerts of `for: 30s` in turn, the 20 s hold, and HighErrorRate
resolving (its errors age out of the 1-minute window) in the steady state after."""


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
                     "clear_fault", "clear_faults"]  # fmt: skip
    assert steps[4][1]["action"] == "not_ready"
    assert [r["provider"]["func"] for r in experiment["rollbacks"]] == ["clear_faults"]
    hold = experiment["method"][3]["pauses"]["after"]
    assert hold == "${hold_seconds}"
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


# --------------------------------------------------------------------------- the stack


@contextmanager
def inhibit_rule_removed(stack, config: Config, source: str) -> Iterator[None]:
    """The stack's alertmanager.yml without the inhibit rule whose source is alert `source`,
    Alertmanager reloaded; the file restored and reloaded at the end."""
    path = stack.data_dir / "alertmanager.yml"
    original = path.read_text()
    document = yaml.safe_load(original)
    kept = [
        r for r in document["inhibit_rules"] if f'alertname="{source}"' not in r["source_matchers"]
    ]
    assert len(kept) == len(document["inhibit_rules"]) - 1, document["inhibit_rules"]
    document["inhibit_rules"] = kept
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
    assert set(faults) == {"errors", "not_ready"}
    # readiness restored first, then the errors
    assert faults["not_ready"].field("end") < faults["errors"].field("end")


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
@pytest.mark.xdist_group("chaos/inhibition-removed")  # its own worker and stack: three minutes
def test_without_the_inhibit_rule_the_inhibition_expectation_fails_naming_the_leaks(
    stack, stack_config, traffic, tmp_path: Path
) -> None:
    with inhibit_rule_removed(stack, stack_config, "ServiceNotReady"):
        run_experiment(stack_config, tmp_path / "run")
    print("measured (inhibit rule removed):", measured(tmp_path / "run"))

    outcome = judge(stack_config, tmp_path / "run", shipped(INHIBITION))
    print("inhibition expectation (inhibit rule removed):", outcome.summary)

    assert not outcome.passed, outcome.summary
    assert f"HighErrorRate for {REGION} reached a receiver" in outcome.summary, outcome.summary
    assert "while ServiceNotReady fired" in outcome.summary
    assert "firing to 'pager' at +" in outcome.summary
    # the rest of the run is sound: only the inhibition is missing
    assert judge(stack_config, tmp_path / "run", shipped(NOT_READY_PAGES)).passed


@pytest.mark.stack
@pytest.mark.slow
def test_with_the_shipped_config_the_inhibition_expectation_passes(
    stack, stack_config, traffic, tmp_path: Path
) -> None:
    run_experiment(stack_config, tmp_path / "run")
    times = measured(tmp_path / "run")
    print("measured (shipped config):", times)

    for name in (INHIBITION, NOT_READY_PAGES, ERRORS_PAGE):
        outcome = judge(stack_config, tmp_path / "run", shipped(name))
        assert outcome.passed, f"{name}: {outcome.summary}"
    for alert in ("HighErrorRate", "ServiceNotReady"):
        assert times[alert]["floor"] - 0.5 <= times[alert]["notify"] <= 45, times
