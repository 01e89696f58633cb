"""`signalcheck chaos run` fails a run whose steady state was not met before the method, which
the stock `chaos run` passes with exit code 0, and names the planned fault it never injected."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from signalcheck.cli import app
from tests.chaos.conftest import EXPERIMENTS, REGION, journal, ledger, run_chaos, tail


@pytest.fixture
def unsteady_experiment(tmp_path):
    """error-injection with a steady-state probe that cannot be met."""
    experiment = json.loads((EXPERIMENTS / "error-injection.json").read_text())
    experiment["steady-state-hypothesis"]["probes"].append(
        {
            "type": "probe",
            "name": "one-equals-zero",
            "tolerance": 0,
            "provider": {
                "type": "python",
                "module": "signalcheck.chaos.probes",
                "func": "query_value",
                "arguments": {"promql": "vector(1)"},
            },
        }
    )
    path = tmp_path / "unsteady.json"
    path.write_text(json.dumps(experiment))
    return path


@pytest.mark.stack
def test_steady_state_not_met_before_fails_the_runner_only(
    stack, stack_config, tmp_path, unsteady_experiment
) -> None:
    stock = run_chaos(unsteady_experiment, stack_config, tmp_path / "stock")
    assert stock.returncode == 0, tail(stock.stderr)
    assert journal(tmp_path / "stock")["steady_states"]["before"]["steady_state_met"] is False

    before = set(stack_config.runs_dir.iterdir()) if stack_config.runs_dir.exists() else set()
    result = CliRunner().invoke(
        app, ["chaos", "run", str(unsteady_experiment), "-c", str(stack_config.source)]
    )
    assert result.exit_code == 1, result.output
    assert "steady state not met before the method: one-equals-zero = 1.0" in result.output
    # Other tests of the package's stack write runs there too: this run's is the new one.
    (run_dir,) = [
        p for p in set(stack_config.runs_dir.iterdir()) - before if (p / "journal.json").exists()
    ]
    assert journal(run_dir)["status"] == "completed"
    assert not [e for e in ledger(run_dir) if e.kind == "fault"], "the method ran"
    planned = [e for e in ledger(run_dir) if e.kind == "planned"]
    assert [(e.field("actor"), e.field("action"), e.field("region")) for e in planned] == [
        ("fault", "errors", REGION)
    ], "the control plans the method's fault before anything runs"
    assert f"planned errors fault in {REGION} (" in result.output
    assert "was never injected" in result.output
