"""A game day whose actors failed is FAILED, with the reason in the console, report.html and
junit.xml: a steady state not met (so its planned fault never happened), a crossed load
threshold, a failed baseline probe.

Real stack, real actors (probes, Locust, `chaos run`), short plans: a few seconds of load, at
most one experiment. The config is the shipped one on the package's stack with the checks
cut to the fast ones and the expectations to `quiet`, `heartbeats` and `alerts` (the
verdict's reasons are under test here, not the other checkers)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml
from markupsafe import escape
from rich.console import Console

from signalcheck.actors import gameday_actors
from signalcheck.cli.gameday import publish
from signalcheck.config import Config, load_config
from signalcheck.gameday import Gameday, GamedayPlan
from signalcheck.gameday.plan import Lane
from signalcheck.report import GamedayReport
from tests.support import REPO

pytestmark = [pytest.mark.stack, pytest.mark.slow]

FAILING_CHECK = {"name": "missing-page", "type": "http", "path": "/no-such-page", "timeout": 5,
                 "expect": {"status": [200]}}  # fmt: skip
TIGHT_PROFILE = {"shape": "smoke", "users": 1, "duration": 4,
                 "thresholds": {"error_rate": 0.5, "p95_ms": 0.001}}  # fmt: skip


def short_config(config: Config, directory: Path, checks: list[dict] | None = None) -> Config:
    """`config` (the package's stack) with fast checks, a tight load profile, trimmed
    expectations and its runs under `directory`."""
    raw = yaml.safe_load(Path(config.source).read_text())
    raw["checks"] = [c for c in raw["checks"] if c["name"] in ("health", "assignment-lifecycle")]
    raw["checks"] += checks or []
    raw["load"]["profiles"]["tight"] = TIGHT_PROFILE
    raw["load"]["profiles"]["short"] = {**TIGHT_PROFILE, "thresholds": {"error_rate": 0.5}}
    raw["expectations"] = {k: raw["expectations"][k] for k in ("quiet", "heartbeats", "alerts")}
    raw["runs_dir"] = str(directory / "runs")
    path = directory / "signalcheck.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_config(path, environ={})


def run_gameday(
    config: Config, plan: GamedayPlan, experiments: Path = REPO / "chaos" / "experiments"
) -> tuple[GamedayReport, str, Path]:
    """The game day as `signalcheck gameday` runs it: (report, console text, run directory)."""
    console = Console(record=True, width=300)
    run = Gameday(config, plan, gameday_actors(experiments), console)
    report = run.run()
    publish(report, run.run_dir, console)
    return report, console.export_text(), run.run_dir


def plan(load_profile: str, experiments: list[str] | None = None) -> GamedayPlan:
    return GamedayPlan(name="short", load_profile=load_profile, load_seconds=4,
                       load_region="us-east-1",
                       lanes=[Lane(experiments=experiments)] if experiments else [])  # fmt: skip


def assert_reported(problem: str, text: str, run_dir: Path) -> None:
    """`problem` is in the console, in report.html's problem list, and a failing JUnit case."""
    assert problem in text and "game day FAILED" in text, text
    html = (run_dir / "report.html").read_text()
    section = html[html.index('<section class="problems"') : html.index("</section>")]
    assert f"<li>{escape(problem)}</li>" in section, section
    suite = ET.parse(run_dir / "junit.xml").getroot()
    verdict = [c for c in suite.iter("testcase") if c.get("classname") == "verdict"]
    assert problem in [c.find("failure").get("message") for c in verdict]


def test_crossed_load_threshold_fails_the_game_day(config, tmp_path):
    report, text, run_dir = run_gameday(short_config(config, tmp_path), plan("tight"))
    assert not report.passed
    (problem,) = report.problems
    assert problem.startswith("load tight: threshold p95_ms crossed: measured "), problem
    assert problem.endswith(", limit 0.001"), problem
    assert_reported(problem, text, run_dir)


def test_failed_baseline_probe_fails_the_game_day(config, tmp_path):
    short = short_config(config, tmp_path, checks=[FAILING_CHECK])
    report, text, run_dir = run_gameday(short, plan("short"))
    assert not report.passed
    baseline = [p for p in report.problems if p.startswith("baseline probe: missing-page in ")]
    assert {p.split(" in ", 1)[1].split(":", 1)[0] for p in baseline} == set(short.regions)
    assert all(": http_status: " in p for p in baseline), baseline
    for problem in baseline:
        assert_reported(problem, text, run_dir)


def test_steady_state_not_met_fails_the_game_day_and_its_planned_fault(config, tmp_path):
    """An experiment whose steady state fails before the method injects nothing: its reason
    and its planned, never injected fault fail the game day, and the alert expectation of
    that fault fails instead of skipping."""
    experiment = json.loads((REPO / "chaos" / "experiments" / "error-injection.json").read_text())
    experiment["steady-state-hypothesis"]["probes"].append(
        {"type": "probe", "name": "one-equals-zero", "tolerance": 0,
         "provider": {"type": "python", "module": "signalcheck.chaos.probes", "func": "query_value",
                      "arguments": {"promql": "vector(1)"}}}
    )  # fmt: skip
    (tmp_path / "unsteady.json").write_text(json.dumps(experiment))
    short = short_config(config, tmp_path)
    report, text, run_dir = run_gameday(short, plan("short", ["unsteady"]), experiments=tmp_path)
    assert not report.passed
    steady = "chaos unsteady: steady state not met before the method: one-equals-zero = 1.0"
    assert steady in report.problems
    assert_reported(steady, text, run_dir)
    (never,) = [p for p in report.problems if "was never injected" in p]
    assert never.startswith("chaos unsteady: planned errors fault in eu-west-1 (")
    assert_reported(never, text, run_dir)
    (alert,) = [e for e in report.expectations if e.name == "chaos / alerts:high-error-rate-pages"]
    assert not alert.passed and not alert.skipped
    assert "was planned" in alert.message and "never happened" in alert.message
