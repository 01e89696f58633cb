"""Any action marked `"signalcheck": {"fault": ..., "region": ...}` is a fault, whatever its
provider: the control opens its `fault` entry before it runs, the action marked
`{"restores": ...}` closes it once it succeeded, and what no restore closed is restored at
the end with the experiment's own restore action, or named for the user.

No stack runs here: the control is called the way chaoslib calls it, and the `chaos run`
tests use `process` actions (`true`, `false`) that touch nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signalcheck.chaos import faultlog
from signalcheck.chaos.control import (
    after_activity_control,
    after_experiment_control,
    before_activity_control,
    before_experiment_control,
)
from signalcheck.chaos.marks import check_marks, mark_of
from signalcheck.chaos.planned import planned_faults
from signalcheck.chaos.runner import dry_mode, read_experiment
from signalcheck.chaos.targets import check_experiment
from signalcheck.config import load_config
from signalcheck.errors import ConfigError, MarkError, TargetRefused
from signalcheck.ledger import LEDGER_FILE, Ledger
from tests.chaos.conftest import EXPERIMENTS, REGION, ledger, run_chaos, tail
from tests.support import write_stack_config

OUTSIDE = "http://203.0.113.7:8000/faults"
"""A TEST-NET address nothing may ever be sent to."""

PROVIDERS = {
    "python": {"type": "python", "module": "os", "func": "getcwd"},
    "process": {"type": "process", "path": "true"},
    "http": {"type": "http", "url": "http://127.0.0.1:9/faults", "method": "PUT"},
}
OUTPUTS = {"python": "/", "process": {"status": 0}, "http": {"status": 200}}
FAILED_OUTPUTS = {"process": ({"status": 1}, "exit code 1"), "http": ({"status": 401}, "HTTP 401")}


def action(name: str, provider: dict, **mark: str) -> dict:
    return {"type": "action", "name": name, "provider": provider, "signalcheck": mark}


def ran(output: object, status: str = "succeeded") -> dict:
    return {"status": status, "output": output}


@pytest.fixture
def config(tmp_path):
    return load_config(write_stack_config(tmp_path), environ={})


@pytest.fixture
def configuration(config, tmp_path, monkeypatch) -> dict:
    monkeypatch.setenv("SIGNALCHECK_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("SIGNALCHECK_CHAOS_EXPERIMENT", "marked")
    monkeypatch.delenv("SIGNALCHECK_CHAOS_DRY", raising=False)
    return {"signalcheck_config": str(config.source), "region": REGION}


def run_ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "run" / LEDGER_FILE)


# ------------------------------------------------------------------------------ the mark


@pytest.mark.parametrize(
    ("activity", "message"),
    [
        (action("a", PROVIDERS["http"], fault="latency"), "a 'fault' needs the 'region'"),
        (action("a", PROVIDERS["http"], restores="x", fault="y", region="r"), "exactly one of"),
        (action("a", PROVIDERS["http"], fault="Latency!", region="r"), "fault: String should"),
        (action("a", PROVIDERS["http"], fault="x", region="r", params="p"), "params: Extra"),
        (
            {**action("a", PROVIDERS["http"], fault="x", region="r"), "type": "probe"},
            "only an action can be a fault, not a probe",
        ),
        (
            action(
                "a",
                {"type": "python", "module": "signalcheck.chaos.actions", "func": "clear_faults"},
                restores="x",
            ),
            "record their own faults",
        ),
        (action("a", PROVIDERS["http"], alerts=["X"]), "'alerts' declares what a fault may"),
        (action("a", PROVIDERS["http"], restores="x", alerts=["X"]), "a restore causes none"),
    ],
)
def test_a_malformed_mark_names_the_activity_the_key_and_the_expected_form(
    activity, message
) -> None:
    with pytest.raises(MarkError) as raised:
        mark_of(activity)
    assert "activity 'a': 'signalcheck'" in str(raised.value)
    assert message in str(raised.value)


def test_the_runner_refuses_a_malformed_mark_naming_the_file(tmp_path) -> None:
    experiment = json.loads((EXPERIMENTS / "latency-injection.json").read_text())
    experiment["steady-state-hypothesis"]["probes"][0]["signalcheck"] = {"restores": "latency"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(experiment))
    with pytest.raises(ConfigError, match=rf"^{path}: activity 'HighLatency-not-firing-in-"):
        read_experiment(path)


def test_a_method_probe_may_restore_a_fault_that_heals_by_itself(configuration, tmp_path) -> None:
    inject = action("kill-pod", PROVIDERS["process"], fault="pod_kill", region="staging")
    healed = {**action("pods-back", PROVIDERS["process"], restores="pod_kill"), "type": "probe"}
    check_marks({"method": [inject, healed]})
    before_activity_control(context=inject, configuration=configuration)
    after_activity_control(context=healed, state=ran({"status": 0}), configuration=configuration)
    assert faultlog.open_faults(run_ledger(tmp_path)) == []


def test_marked_faults_are_planned_in_method_order(configuration) -> None:
    experiment = {
        "method": [
            action("slow", PROVIDERS["http"], fault="latency", region="${region}"),
            action("kill-pod", PROVIDERS["process"], fault="pod_kill", region="staging"),
            action("undo", PROVIDERS["http"], restores="latency"),
        ],
        "rollbacks": [action("late", PROVIDERS["process"], fault="errors", region="x")],
    }
    assert planned_faults(experiment, configuration) == [
        ("latency", REGION),
        ("pod_kill", "staging"),
    ]


def test_a_marked_http_action_outside_the_allowlist_refuses_the_experiment(config) -> None:
    experiment = {"method": [action("slow", {**PROVIDERS["http"], "url": OUTSIDE}, restores="x")]}
    with pytest.raises(TargetRefused, match=r"203\.0\.113\.7"):
        check_experiment(config, experiment, {})
    check_experiment(config, {"method": [action("slow", PROVIDERS["http"], restores="x")]}, {})


def test_a_dry_run_skips_every_activity_when_an_action_is_not_a_signalcheck_one() -> None:
    shipped = json.loads((EXPERIMENTS / "latency-injection.json").read_text())
    assert dry_mode(shipped) == "probes"
    shipped["rollbacks"].append(action("undo", PROVIDERS["process"], restores="latency"))
    assert dry_mode(shipped) == "activities"


# ------------------------------------------------------------------- the control's hooks


@pytest.mark.parametrize("kind", sorted(PROVIDERS))
def test_a_marked_fault_of_any_provider_opens_and_its_restore_closes_it(
    kind, configuration, tmp_path
) -> None:
    inject = action("slow-down", PROVIDERS[kind], fault="latency", region="${region}")
    restore = action("speed-up", PROVIDERS[kind], restores="slow-down")
    before_activity_control(context=inject, configuration=configuration)
    after_activity_control(context=inject, state=ran(OUTPUTS[kind]), configuration=configuration)
    (fault,) = faultlog.open_faults(run_ledger(tmp_path))
    assert (fault.field("action"), fault.field("region")) == ("latency", REGION)
    assert fault.field("params") == {"activity": "slow-down", "provider": kind}

    before_activity_control(context=restore, configuration=configuration)
    after_activity_control(context=restore, state=ran(OUTPUTS[kind]), configuration=configuration)
    assert faultlog.open_faults(run_ledger(tmp_path)) == []
    (closed,) = faultlog.faults(run_ledger(tmp_path))
    assert closed.field("start") == fault.field("start") < closed.field("end")
    assert faultlog.unmet_plans(run_ledger(tmp_path)) == []


@pytest.mark.parametrize("kind", sorted(FAILED_OUTPUTS))
def test_a_restore_that_answered_an_error_leaves_the_fault_open(
    kind, configuration, tmp_path
) -> None:
    """chaoslib records an HTTP 401 or an exit code 1 as a success: the fault is not undone."""
    inject = action("slow-down", PROVIDERS[kind], fault="latency", region="eu-west-1")
    restore = action("speed-up", PROVIDERS[kind], restores="latency", region="eu-west-1")
    before_activity_control(context=inject, configuration=configuration)
    after_activity_control(context=inject, state=ran(OUTPUTS[kind]), configuration=configuration)
    output, _ = FAILED_OUTPUTS[kind]
    after_activity_control(context=restore, state=ran(output), configuration=configuration)
    assert len(faultlog.open_faults(run_ledger(tmp_path))) == 1
    assert faultlog.unmet_plans(run_ledger(tmp_path)) == [
        "latency fault in eu-west-1 was never restored (injected by 'slow-down', which "
        "signalcheck cannot undo: undo it yourself)"
    ]


@pytest.mark.parametrize("kind", sorted(FAILED_OUTPUTS))
def test_a_failed_injection_is_closed_with_why(kind, configuration, tmp_path) -> None:
    inject = action("slow-down", PROVIDERS[kind], fault="latency", region="eu-west-1")
    before_activity_control(context=inject, configuration=configuration)
    output, why = FAILED_OUTPUTS[kind]
    after_activity_control(context=inject, state=ran(output), configuration=configuration)
    (fault,) = faultlog.faults(run_ledger(tmp_path))
    assert fault.field("end") is not None and fault.field("error") == why
    assert faultlog.unmet_plans(run_ledger(tmp_path)) == [
        f"latency fault in eu-west-1 (slow-down) failed: {why}"
    ]


def test_a_restore_by_fault_name_and_region_leaves_other_regions_open(
    configuration, tmp_path
) -> None:
    for region in ("eu-west-1", "us-east-1"):
        inject = action(f"slow-{region}", PROVIDERS["http"], fault="latency", region=region)
        before_activity_control(context=inject, configuration=configuration)
    restore = action("undo", PROVIDERS["http"], restores="latency", region="${region}")
    after_activity_control(context=restore, state=ran({"status": 204}), configuration=configuration)
    assert [f.field("region") for f in faultlog.open_faults(run_ledger(tmp_path))] == ["us-east-1"]


def test_a_dry_run_records_no_marked_fault(configuration, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SIGNALCHECK_CHAOS_DRY", "1")
    inject = action("slow-down", PROVIDERS["http"], fault="latency", region="eu-west-1")
    before_activity_control(context=inject, configuration=configuration)
    after_activity_control(context=inject, state=ran({"status": 200}), configuration=configuration)
    assert not run_ledger(tmp_path).path.exists()


def test_the_end_of_the_run_restores_with_the_experiments_own_restore_or_names_the_fault(
    configuration, tmp_path
) -> None:
    """Left open: one fault with a restore action the run never got to (it is run now, a real
    `true` process), one that has none (named for the user, left open)."""
    experiment = {
        "title": "left open",
        "method": [
            action("slow", PROVIDERS["process"], fault="latency", region="eu-west-1"),
            action("kill", PROVIDERS["process"], fault="pod_kill", region="staging"),
        ],
        "rollbacks": [action("speed-up", PROVIDERS["process"], restores="slow")],
    }
    before_experiment_control(context=experiment, configuration=configuration)
    for activity in experiment["method"]:
        before_activity_control(context=activity, configuration=configuration)
    after_experiment_control(
        context=experiment, state={"status": "interrupted"}, configuration=configuration
    )
    ledger_ = run_ledger(tmp_path)
    assert [f.field("action") for f in faultlog.open_faults(ledger_)] == ["pod_kill"]
    (restore,) = [e for e in ledger_.entries("chaos") if e.field("phase") == "restore"]
    assert restore.field("restored") == ["latency fault in eu-west-1"]
    assert restore.field("unrestored") == ["pod_kill fault in staging (injected by 'kill')"]
    assert faultlog.unmet_plans(ledger_) == [
        "pod_kill fault in staging was never restored (injected by 'kill', which signalcheck "
        "cannot undo: undo it yourself)"
    ]


# ----------------------------------------------------------------- stock `chaos run`

PROCESS_EXPERIMENT = {
    "version": "1.0.0",
    "title": "marked process actions",
    "description": "A fault and its restore through the stock process provider.",
    "configuration": {
        "signalcheck_config": {"type": "env", "key": "SIGNALCHECK_CONFIG"},
        "region": {"type": "env", "key": "SIGNALCHECK_CHAOS_REGION", "default": REGION},
    },
    "controls": [
        {
            "name": "signalcheck",
            "provider": {"type": "python", "module": "signalcheck.chaos.control"},
        }
    ],
    "method": [
        action("break-it", PROVIDERS["process"], fault="latency", region="${region}"),
        action("mend-it", PROVIDERS["process"], restores="break-it"),
    ],
}


def test_stock_chaos_run_records_a_marked_process_fault_and_its_restore(config, tmp_path) -> None:
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(PROCESS_EXPERIMENT))
    done = run_chaos(path, config, tmp_path / "run", timeout=60)
    assert done.returncode == 0, tail(done.stderr)
    entries = ledger(tmp_path / "run")
    assert [(e.field("actor"), e.field("action")) for e in entries if e.kind == "planned"] == [
        ("fault", "latency")
    ]
    faults = [e for e in entries if e.kind == "fault"]
    assert [f.field("end") is None for f in faults] == [True, False], faults
    assert faultlog.unmet_plans(Ledger(tmp_path / "run" / LEDGER_FILE)) == []


def test_a_malformed_mark_refuses_the_stock_run_before_anything_runs(config, tmp_path) -> None:
    experiment = json.loads(json.dumps(PROCESS_EXPERIMENT))
    experiment["method"][0]["signalcheck"] = {"fault": "latency"}
    with pytest.raises(MarkError):
        check_marks(experiment)
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment))
    done = run_chaos(path, config, tmp_path / "run", timeout=60)
    entries = ledger(tmp_path / "run")
    assert [e.field("phase") for e in entries if e.kind == "chaos"] == ["refused"], tail(
        done.stderr
    )
    assert not [e for e in entries if e.kind in ("fault", "planned")]


def test_a_fault_declares_the_alerts_it_may_cause_in_its_planned_entry(
    configuration, tmp_path
) -> None:
    """A mark's `alerts` (on a marked fault, or alone on a signalcheck.chaos.actions
    injection) go into the fault's `planned` entry: quiet reads them as what the fault may
    cause besides its alert expectations' alerts."""
    own = {"type": "python", "module": "signalcheck.chaos.actions", "func": "inject_errors",
           "arguments": {"region": "${region}"}}  # fmt: skip
    experiment = {
        "title": "declared",
        "method": [
            action("errors", own, alerts=["ErrorBudgetBurnFast"]),
            action("slow", PROVIDERS["http"], fault="latency", region="r", alerts=["Slow"]),
        ],
    }
    check_marks(experiment)
    before_experiment_control(context=experiment, configuration=configuration)
    planned = run_ledger(tmp_path).entries("planned")
    assert [(e.field("action"), e.field("region"), e.field("alerts")) for e in planned] == [
        ("errors", REGION, ["ErrorBudgetBurnFast"]),
        ("latency", "r", ["Slow"]),
    ]
