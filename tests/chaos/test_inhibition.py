"""The inhibition experiment (chaos/experiments/inhibition.json) on the real local stack, judged
by the shipped `not-ready-inhibits-error-alerts` and `service-down-inhibits-burn-alerts`
expectations: errors page (HighErrorRate), then the region is made not ready until
ServiceNotReady pages and holds for 20 s; readiness comes back, the errors go on until
ErrorBudgetBurnFast pages, and once HighErrorRate has resolved the region is killed until
ServiceDown pages and holds for 20 s, while the burn-rate alert still fires. The stack's
Alertmanager re-notifies a firing alert every `stack.repeat_interval` seconds.

One run serves both verdicts: the experiment runs once with two shadow pipelines beside the
stack (`signalcheck mutate`'s: a real Prometheus and Alertmanager each, scraping the same
targets), each with one inhibit rule removed from its alertmanager.yml. On the shipped pipeline
both expectations pass; on a shadow, HighErrorRate keeps reaching the pager while
ServiceNotReady fires (or ErrorBudgetBurnFast while ServiceDown fires), and that expectation
fails naming those notifications.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signalcheck.actors import mutate_actors
from signalcheck.chaos import faultlog
from signalcheck.chaos.restore import UNDO
from signalcheck.config import load_config
from signalcheck.demo.faults import FaultState
from signalcheck.expectations import Expectations
from signalcheck.ledger import LEDGER_FILE, Ledger
from signalcheck.mutate.derive import derive, load_sources
from signalcheck.mutate.experiments import faults_of
from signalcheck.mutate.run import Mutation, select
from tests.chaos.conftest import EXPERIMENTS, REGION, journal, judge, ledger, shipped
from tests.support import REPO

EXPERIMENT = EXPERIMENTS / "inhibition.json"
INHIBITION = "not-ready-inhibits-error-alerts"
NOT_READY_PAGES = "service-not-ready-pages"
ERRORS_PAGE = "high-error-rate-pages"
DOWN_INHIBITION = "service-down-inhibits-burn-alerts"
DOWN_PAGES = "service-down-pages"


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

LEAKS = {
    "ServiceNotReady": (INHIBITION, "HighErrorRate", NOT_READY_PAGES),
    "ServiceDown": (DOWN_INHIBITION, "ErrorBudgetBurnFast", DOWN_PAGES),
}
"""Inhibiting alert -> (its inhibition expectation, the inhibited alert, its own paging
expectation) of the inhibit rule it is the source of."""


def assert_ran_in_order(run_dir: Path) -> None:
    run = journal(run_dir / "chaos-inhibition")
    assert run["status"] == "completed"
    assert [r["status"] for r in run["run"]] == ["succeeded"] * len(run["run"])
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
@pytest.mark.timeout(600)  # the experiment alone takes four minutes
def test_the_shipped_config_passes_and_without_an_inhibit_rule_its_expectation_fails(
    stack, stack_config, tmp_path: Path
) -> None:
    mutants = select(derive(load_sources(stack_config)), ["inhibit.*"])
    assert sorted(next(iter(m.inhibitors)) for m in mutants) == sorted(LEAKS)
    run_dir = tmp_path / "run"
    # the shipped alert expectations: what makes the experiment exercise both inhibit rules
    alerts = load_config(REPO / "signalcheck.yaml", environ={}).expectations.alerts
    config = stack_config.model_copy(update={"expectations": Expectations(alerts=alerts)})
    mutation = Mutation(config, mutants, [EXPERIMENT], faults_of([EXPERIMENT]), mutate_actors(),
                        run_dir, max_shadows=len(mutants))  # fmt: skip
    with mutation.exercised() as done:
        assert_ran_in_order(run_dir)
        times = measured(run_dir)
        print("measured:", times)
        for name in (INHIBITION, NOT_READY_PAGES, ERRORS_PAGE, DOWN_INHIBITION, DOWN_PAGES):
            outcome = judge(stack_config, run_dir, shipped(name))
            assert outcome.passed, f"shipped config, {name}: {outcome.summary}"

        assert len(done.shadows) == len(LEAKS)
        for shadow in done.shadows:
            (inhibitor,) = shadow.mutant.inhibitors
            name, inhibited, pages = LEAKS[inhibitor]
            removed = shadow.judged_config(stack_config)
            outcome = judge(removed, run_dir, shipped(name))
            print(f"{name} ({shadow.mutant.name} removed):", outcome.summary)
            assert not outcome.passed, outcome.summary
            assert f"{inhibited} for {REGION} reached a receiver" in outcome.summary
            assert f"while {inhibitor} fired" in outcome.summary
            assert "firing to 'pager' at +" in outcome.summary
            # the rest of the run is sound there: only the inhibition is missing
            assert judge(removed, run_dir, shipped(pages)).passed, (shadow.mutant.name, pages)

    for alert in ("HighErrorRate", "ServiceNotReady", "ServiceDown"):
        assert times[alert]["floor"] - 0.5 <= times[alert]["notify"] <= 45, times
    assert times["ErrorBudgetBurnFast"]["notify"] <= 180, times
