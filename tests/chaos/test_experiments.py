"""Each shipped experiment, run by the stock `chaos run`, detects its fault in budget, for the
faulted region alone, at the expected receiver, and recovers after the rollback.

The experiments share one stack and run in sequence; error injection goes last because the
burn-rate alerts it sets off outlast it by minutes (they are outside the steady state).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.prometheus import PrometheusClient
from tests.chaos.conftest import EXPERIMENTS, REGION, journal, ledger, run_chaos, tail

# experiment -> (alert, receiver, fault action)
EXPECTED = {
    "region-outage": ("ServiceDown", "pager", "kill"),
    "dependency-outage": ("DependencyDown", "chat", "dependency_down"),
    "latency-injection": ("HighLatency", "chat", "latency"),
    "error-injection": ("HighErrorRate", "pager", "errors"),
}


def budgets(experiment: dict) -> tuple[float, dict[str, float]]:
    """The experiment's own detect budget (method) and resolve budget per alert (hypothesis)."""
    fires = next(a for a in experiment["method"] if a["provider"]["func"] == "alert_fires")
    resolves = {
        p["provider"]["arguments"]["name"]: p["provider"]["arguments"]["within"]
        for p in experiment["steady-state-hypothesis"]["probes"]
        if p["provider"]["func"] == "alert_resolves"
    }
    return fires["provider"]["arguments"]["within"], resolves


ALSO_DETECTED = {"latency-injection": ["SyntheticHighLatency"]}
"""Alerts an experiment detects after its main one, at the same receiver: the latency
experiment's probe pass of the slow region sets off the probe latency alert too."""


TESTED_APART = {
    "inhibition": "tests/chaos/test_inhibition.py",
    "slow-burn": "tests/chaos/test_slow_burn.py",
}
"""Experiments with two faults in turn, tested in their own module."""


def test_every_shipped_experiment_is_tested() -> None:
    assert sorted(p.stem for p in EXPERIMENTS.glob("*.json")) == sorted([*EXPECTED, *TESTED_APART])


@pytest.mark.stack
@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    # two halves on two workers (two stacks): each experiment takes one to two minutes
    [pytest.param(n, marks=pytest.mark.xdist_group(f"chaos/experiments-{i % 2}"))
     for i, n in enumerate(EXPECTED)],
)  # fmt: skip
def test_experiment_detects_in_budget_for_its_region_and_recovers(
    stack, stack_config, traffic, tmp_path: Path, name: str
) -> None:
    alert, receiver, action = EXPECTED[name]
    path = EXPERIMENTS / f"{name}.json"
    detect_budget, resolve_budgets = budgets(json.loads(path.read_text()))

    ran = run_chaos(path, stack_config, tmp_path / "run")

    assert ran.returncode == 0, tail(ran.stderr)
    run = journal(tmp_path / "run")
    assert run["status"] == "completed", tail(ran.stderr)
    assert run["steady_states"]["before"]["steady_state_met"] is True
    assert run["steady_states"]["after"]["steady_state_met"] is True
    assert [r["status"] for r in run["run"]] == ["succeeded"] * len(run["run"])

    entries = ledger(tmp_path / "run")
    faults = [e for e in entries if e.kind == "fault"]
    assert {(f.field("action"), f.field("region")) for f in faults} == {(action, REGION)}
    start, end = faults[-1].field("start"), faults[-1].field("end")
    assert faults[0].field("end") is None and start < end, faults

    detections = [e for e in entries if e.kind == "detection"]
    assert [d.field("alert") for d in detections] == [alert, *ALSO_DETECTED.get(name, [])]
    for detection in detections:
        assert detection.field("region") == REGION
        assert detection.field("receiver") == receiver and detection.field("strays") == []
        ttd = detection.field("time_to_detect")
        assert detection.field("floor_seconds") - 0.5 <= ttd <= detect_budget, detection

    recoveries = [e for e in entries if e.kind == "recovery"]
    assert [r.field("alert") for r in recoveries] == [d.field("alert") for d in detections]
    for recovery in recoveries:
        assert recovery.field("cleared_at") == end
        budget = resolve_budgets[recovery.field("alert")]
        assert 0 < recovery.field("time_to_resolve") <= budget, recovery

    # The receiver's own record, independent of the probes: this alert reached exactly the
    # expected receiver, for the faulted region alone, firing and then resolved.
    with CaptureClient(stack_config.backends.capture) as capture:
        sent = capture.notifications(alertname=alert, since=start)
    assert {(n["receiver"], n["labels"]["region"]) for n in sent} == {(receiver, REGION)}, sent
    assert {n["status"] for n in sent} == {"firing", "resolved"}, sent
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        firing = [a for a in prometheus.alerts() if a["labels"]["alertname"] == alert]
    assert [a for a in firing if a["state"] == "firing"] == []
