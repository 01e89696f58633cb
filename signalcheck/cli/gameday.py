"""`signalcheck gameday`: the whole exercise, reported; wires the feature folders as actors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from signalcheck.cli.common import ConfigOption, console, fail, user_errors
from signalcheck.config import Config, ConfigError, load_config

app = typer.Typer()


@app.command()
@user_errors
def gameday(
    config: ConfigOption = None,
    profile: Annotated[str, typer.Option(help="quick (one experiment) or full (all four).")] = (
        "quick"
    ),
) -> None:
    """Run baseline probes, a load profile and chaos experiments; validate and report.

    Writes runs/<timestamp>/: report.html, junit.xml, the ledger, the chaos journals and
    Locust's reports. Exit 0 when every expectation passed and every expected alert was
    detected, 1 otherwise, 130 when interrupted (every injected fault is restored).
    """
    from signalcheck.gameday import PROFILES, Gameday
    from signalcheck.gameday.runner import Interrupted
    from signalcheck.report.console import print_summary
    from signalcheck.report.html import write_html
    from signalcheck.report.junit import write_junit

    if profile not in PROFILES:
        raise ConfigError(f"--profile: expected one of {', '.join(PROFILES)}, got {profile!r}")
    loaded = load_config(config)
    run = Gameday(loaded, PROFILES[profile], _actors(), console)
    console.print(f"game day [bold]{profile}[/] in {run.run_dir}", highlight=False)
    try:
        report = run.run()
    except Interrupted as stopped:
        fail(f"interrupted; faults restored in: {', '.join(stopped.args[0]) or 'none open'}")
        raise typer.Exit(130) from None
    print_summary(report, console)
    write_html(report, run.run_dir / "report.html")
    write_junit(report, run.run_dir / "junit.xml")
    console.print(f"report: {run.run_dir / 'report.html'}", highlight=False)
    raise typer.Exit(0 if report.passed else 1)


def _actors():
    """The feature folders, imported here so that signalcheck/gameday depends on none."""
    from chaos.actions import restore_run
    from chaos.runner import run_experiment
    from loadtests.runner import run_plan
    from probes.once import run_once
    from signalcheck.gameday import Actors
    from signalcheck.load_profiles import plan_for

    experiments = Path(__file__).resolve().parents[2] / "chaos" / "experiments"

    def probe_pass(config: Config, ledger: Path) -> bool:
        _, code = run_once(config, concurrency=8, ledger_path=ledger)
        return code == 0

    def load(config: Config, gameday_plan, run_dir: Path) -> bool:
        run_dir.mkdir(parents=True, exist_ok=True)
        plan = plan_for(
            config,
            gameday_plan.load_profile,
            region=gameday_plan.load_region,
            duration=gameday_plan.load_seconds,
        )
        return run_plan(plan, run_dir).passed

    def experiment(config: Config, name: str, run_dir: Path) -> tuple[list[str], bool]:
        outcome = run_experiment(config, experiments / f"{name}.json", run_dir=run_dir)
        return outcome.problems, outcome.interrupted

    return Actors(probe_pass=probe_pass, load=load, experiment=experiment, restore=restore_run)
