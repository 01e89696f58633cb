"""`signalcheck gameday`: the whole exercise, driven by signalcheck/actors.py, reported."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from signalcheck.cli.common import ConfigOption, console, fail, user_errors
from signalcheck.config import Config, load_config
from signalcheck.errors import ConfigError
from signalcheck.shipped import EXPERIMENTS, experiment_file

if TYPE_CHECKING:
    from rich.console import Console

    from signalcheck.gameday import GamedayPlan
    from signalcheck.report import GamedayReport

app = typer.Typer()


@app.command()
@user_errors
def gameday(
    config: ConfigOption = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="quick (one experiment) or full (all five, three regions at once); default quick."
        ),
    ] = None,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="A plan file (YAML): the experiment files, the load profile and the phases.",
        ),
    ] = None,
) -> None:
    """Run baseline probes, a load profile and chaos experiments; validate and report.

    With --plan, the plan file names the experiment files, the load profile and the phases;
    with remote backends configured no local stack is started, and the config's own checks
    are the probes.

    Writes runs/<timestamp>/: report.html, junit.xml, the ledger, the chaos journals and
    Locust's reports. Exit 0 when every expectation passed, every expected alert was
    detected and every actor did what was planned (baseline probes passed, no load
    threshold crossed, steady states met, planned faults injected and restored), 1
    otherwise, 130 when interrupted (every injected fault is restored).
    """
    from signalcheck.actors import gameday_actors
    from signalcheck.cli.chaos import restore_left_open
    from signalcheck.errors import GamedayInterrupted
    from signalcheck.gameday import PROFILES, Gameday
    from signalcheck.gameday.planfile import read_plan

    if plan_file is not None and profile is not None:
        raise ConfigError("--plan and --profile: give one of them")
    if plan_file is None and (profile or "quick") not in PROFILES:
        raise ConfigError(f"--profile: expected one of {', '.join(PROFILES)}, got {profile!r}")
    loaded = load_config(config)
    plan = PROFILES[profile or "quick"] if plan_file is None else read_plan(plan_file, loaded)
    check_experiments(loaded, plan)
    restore_left_open(loaded)
    run = Gameday(loaded, plan, gameday_actors(), console)
    console.print(f"game day [bold]{plan.name}[/] in {run.run_dir}", highlight=False)
    try:
        report = run.run()
    except GamedayInterrupted as stopped:
        fail(f"interrupted; faults restored in: {', '.join(stopped.args[0]) or 'none open'}")
        raise typer.Exit(130) from None
    publish(report, run.run_dir, console)
    raise typer.Exit(0 if report.passed else 1)


def publish(report: GamedayReport, run_dir: Path, out: Console) -> None:
    """The summary on `out`, report.html and junit.xml in `run_dir`."""
    from signalcheck.report.console import print_summary
    from signalcheck.report.html import write_html
    from signalcheck.report.junit import write_junit

    print_summary(report, out)
    write_html(report, run_dir / "report.html")
    write_junit(report, run_dir / "junit.xml")
    out.print(f"report: {run_dir / 'report.html'}", highlight=False)


def check_experiments(config: Config, plan: GamedayPlan, experiments: Path = EXPERIMENTS) -> None:
    """Refuse the game day before it starts (a ConfigError) when a lane's region is not the
    config's, or one of its experiments cannot be read or targets something outside the
    allowlist (in its lane's region)."""
    from signalcheck.chaos.runner import REGION_ENV, check_targets, read_experiment
    from signalcheck.errors import TargetRefused

    for lane in plan.lanes:
        if lane.region is not None and lane.region not in config.regions:
            raise ConfigError(
                f"game day {plan.name} faults {lane.region}, which is not a region of the config "
                f"({', '.join(config.regions)}): give a plan file (--plan) with your regions"
            )
        env = {} if lane.region is None else {REGION_ENV: lane.region}
        for name in lane.experiments:
            try:
                check_targets(config, read_experiment(experiment_file(name, experiments)), env)
            except TargetRefused as exc:
                raise ConfigError(f"refused experiment {name}, nothing was done: {exc}") from None
