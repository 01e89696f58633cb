"""`planned` fault entries: written by the control before the method (never in a dry run), one
per injection of the experiment's method; a planned fault never injected, or a fault never
restored, is a problem of the run.

No stack runs here: the control is called the way chaoslib calls it, with the shipped
experiments and a config whose regions point at free ports where nothing listens.
"""

from __future__ import annotations

import inspect
import json

import pytest

import signalcheck.chaos.actions
from signalcheck.chaos import faultlog
from signalcheck.chaos.control import before_experiment_control
from signalcheck.chaos.planned import planned_faults, probed_faults
from signalcheck.config import load_config
from signalcheck.ledger import LEDGER_FILE, Ledger
from tests.chaos.conftest import EXPERIMENTS, REGION
from tests.support import write_stack_config

EXPECTED = {
    "region-outage": [("kill", REGION)],
    "dependency-outage": [("dependency_down", REGION)],
    "latency-injection": [("latency", REGION)],
    "error-injection": [("errors", REGION)],
    "inhibition": [("errors", REGION), ("not_ready", REGION), ("kill", REGION)],
    "slow-burn": [("probes_paused", REGION), ("errors", REGION)],
}


def _experiment(name: str) -> dict:
    return json.loads((EXPERIMENTS / f"{name}.json").read_text())


@pytest.fixture
def config(tmp_path):
    return load_config(write_stack_config(tmp_path), environ={})


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    path = tmp_path / "run"
    monkeypatch.setenv("SIGNALCHECK_RUN_DIR", str(path))
    monkeypatch.setenv("SIGNALCHECK_CHAOS_EXPERIMENT", "a test experiment")
    monkeypatch.delenv("SIGNALCHECK_CHAOS_DRY", raising=False)
    return path


def test_every_injection_names_a_real_action_that_opens_its_fault() -> None:
    for func, action in faultlog.INJECTIONS.items():
        source = inspect.getsource(getattr(signalcheck.chaos.actions, func))
        constants = [f"faultlog.{k}" for k, v in vars(faultlog).items() if v == action]
        assert any(name in source for name in [f'"{action}"', *constants]), func


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_planned_faults_of_each_shipped_experiment(name) -> None:
    assert planned_faults(_experiment(name), {"region": REGION}) == EXPECTED[name]
    other = planned_faults(_experiment(name), {"region": "ap-south-1"})
    assert [region for _, region in other] == ["ap-south-1"] * len(EXPECTED[name])


PROBED = {"region-outage": [("kill", REGION)], "latency-injection": [("latency", REGION)]}
"""The faults a probe pass of their region follows (what a `needs_probes` alert needs)."""


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_probed_faults_of_each_shipped_experiment(name) -> None:
    assert probed_faults(_experiment(name), {"region": REGION}) == PROBED.get(name, [])


def test_a_probe_pass_before_the_fault_or_of_another_region_does_not_count() -> None:
    experiment = _experiment("latency-injection")
    method = experiment["method"]
    passes = [a for a in method if a["provider"]["func"] == "probe_checks_pass"]
    assert passes, "the latency experiment runs probe passes"
    others = [a for a in method if a not in passes]
    moved = {**experiment, "method": passes + others}
    assert probed_faults(moved, {"region": REGION}) == []
    elsewhere = json.loads(json.dumps(experiment))
    for activity in elsewhere["method"]:
        if activity["provider"]["func"] == "probe_checks_pass":
            activity["provider"]["arguments"] = {"region": "ap-south-1"}
    assert probed_faults(elsewhere, {"region": REGION}) == []
    for activity in elsewhere["method"]:
        if activity["provider"]["func"] == "probe_checks_pass":
            activity["provider"]["arguments"] = {}  # every region
    assert probed_faults(elsewhere, {"region": REGION}) == [("latency", REGION)]


def test_the_control_writes_planned_faults_before_the_method(config, run_dir) -> None:
    configuration = {"signalcheck_config": str(config.source), "region": REGION}
    before_experiment_control(context=_experiment("error-injection"), configuration=configuration)
    entries = Ledger(run_dir / LEDGER_FILE).entries("planned")
    assert [e.model_dump(exclude={"ts"}) for e in entries] == [
        {"kind": "planned", "actor": "fault", "action": "errors", "region": REGION,
         "experiment": "a test experiment", "probed": False,
         "alerts": ["ErrorBudgetBurnFast", "ErrorBudgetBurnSlow"]}
    ]  # fmt: skip


def test_a_dry_run_plans_nothing(config, run_dir, monkeypatch) -> None:
    monkeypatch.setenv("SIGNALCHECK_CHAOS_DRY", "1")
    configuration = {"signalcheck_config": str(config.source), "region": REGION}
    before_experiment_control(context=_experiment("region-outage"), configuration=configuration)
    assert Ledger(run_dir / LEDGER_FILE).entries("planned") == []


def test_unmet_plans(tmp_path) -> None:
    ledger = Ledger(tmp_path / LEDGER_FILE)
    assert faultlog.unmet_plans(ledger) == [], "no ledger, nothing planned"
    faultlog.plan_fault(ledger, "kill", REGION, "outage")
    faultlog.plan_fault(ledger, "errors", REGION, "errors twice")
    faultlog.plan_fault(ledger, "errors", REGION, "errors twice")
    assert faultlog.unmet_plans(ledger) == [
        f"planned kill fault in {REGION} (outage) was never injected",
        f"planned errors fault in {REGION} (errors twice) was never injected",
        f"planned errors fault in {REGION} (errors twice) was never injected",
    ]
    faultlog.open_fault(ledger, "kill", REGION, {})
    faultlog.open_fault(ledger, "errors", REGION, {})
    assert faultlog.unmet_plans(ledger) == [
        f"planned errors fault in {REGION} (errors twice) was never injected",
        f"kill fault in {REGION} was never restored",
        f"errors fault in {REGION} was never restored",
    ]
    faultlog.close_faults(ledger, REGION, ("kill", "errors"))
    faultlog.open_fault(ledger, "errors", REGION, {})
    faultlog.close_faults(ledger, REGION, ("errors",))
    assert faultlog.unmet_plans(ledger) == []
