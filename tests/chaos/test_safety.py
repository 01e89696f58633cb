"""Targets outside the allowlist are refused before anything is done; --dry does nothing.

No stack runs here: the config's regions point at free ports where nothing listens, and the
outside target is a TEST-NET address that nothing may ever be sent to.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from signalcheck.chaos.actions import inject_errors, kill_region
from signalcheck.chaos.targets import TargetRefused, resolve
from signalcheck.cli import app
from signalcheck.config import load_config
from tests.chaos.conftest import EXPERIMENTS, REGION, journal, ledger, run_chaos, tail
from tests.support import write_stack_config

OUTSIDE = "http://203.0.113.7:8000"


@pytest.fixture
def config(tmp_path):
    return load_config(write_stack_config(tmp_path), environ={})


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    path = tmp_path / "run"
    monkeypatch.setenv("SIGNALCHECK_RUN_DIR", str(path))
    monkeypatch.delenv("SIGNALCHECK_CHAOS_DRY", raising=False)
    return path


def test_resolve_accepts_regions_and_allowlisted_urls(config) -> None:
    assert resolve(config, REGION).component == f"demo-{REGION}"
    assert resolve(config, REGION).base_url == str(config.regions[REGION].base_url).rstrip("/")
    assert resolve(config, "http://127.0.0.1:9/").base_url == "http://127.0.0.1:9"
    assert resolve(config, "http://127.0.0.1:9/").component is None


@pytest.mark.parametrize("target", [OUTSIDE, "https://example.com", "mars-1", "10.0.0.1"])
def test_resolve_refuses_what_is_not_allowed(config, target) -> None:
    with pytest.raises(TargetRefused, match=r"allowlist|neither a configured region"):
        resolve(config, target)


def test_actions_refuse_before_doing_anything(config, run_dir) -> None:
    configuration = {"signalcheck_config": str(config.source)}
    with pytest.raises(TargetRefused, match="not in the allowlist"):
        inject_errors(region=OUTSIDE, configuration=configuration)
    with pytest.raises(TargetRefused, match="only a configured region"):
        kill_region(region="http://127.0.0.1:9", configuration=configuration)
    assert ledger(run_dir) == [], "a refused action wrote a fault"


@pytest.mark.parametrize("target", [OUTSIDE, "mars-1"])
def test_experiment_with_an_outside_target_is_refused_before_anything_runs(
    config, tmp_path, target
) -> None:
    run_dir = tmp_path / "refused"
    ran = run_chaos(
        EXPERIMENTS / "error-injection.json", config, run_dir, SIGNALCHECK_CHAOS_REGION=target
    )
    assert ran.returncode != 0, tail(ran.stderr)
    assert "signalcheck refused the experiment" in ran.stderr, tail(ran.stderr)
    run = journal(run_dir)
    assert run["status"] == "interrupted"
    assert run["steady_states"]["before"] is None, "the hypothesis ran"
    assert run["run"] == [], "method activities ran"
    assert run["rollbacks"] == [], "rollbacks ran"
    entries = ledger(run_dir)
    assert [e.field("phase") for e in entries if e.kind == "chaos"] == ["refused"]
    assert target in entries[0].field("reason")
    assert not [e for e in entries if e.kind in ("fault", "planned")]


def test_dry_run_shows_what_it_would_do_and_does_nothing(config) -> None:
    result = CliRunner().invoke(
        app,
        ["chaos", "run", str(EXPERIMENTS / "region-outage.json"), "--dry", "-c",
         str(config.source)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run_dirs = list(config.runs_dir.iterdir())
    assert len(run_dirs) == 1
    log = (run_dirs[0] / "chaostoolkit.log").read_text()
    assert f"dry run: would stop demo-{REGION}" in log
    assert f"dry run: would start demo-{REGION}" in log
    assert "Pausing" not in log, "a dry run waits out none of the experiment's pauses"
    assert journal(run_dirs[0])["status"] == "completed"
    assert not [e for e in ledger(run_dirs[0]) if e.kind in ("fault", "planned")]


def test_dry_run_still_refuses_outside_targets(config, monkeypatch) -> None:
    monkeypatch.setenv("SIGNALCHECK_CHAOS_REGION", OUTSIDE)
    result = CliRunner().invoke(
        app,
        ["chaos", "run", str(EXPERIMENTS / "latency-injection.json"), "--dry", "-c",
         str(config.source)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    assert "refused the experiment, nothing was done" in result.output
    assert not config.runs_dir.exists(), "a refused experiment started a run"


def test_config_error_is_one_line_and_exit_2(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("regions: {}\n")
    result = CliRunner().invoke(
        app, ["chaos", "run", str(EXPERIMENTS / "region-outage.json"), "-c", str(bad)]
    )
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "regions" in result.output
