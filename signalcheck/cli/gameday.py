"""`signalcheck gameday`: the whole exercise, reported; wires the feature folders as actors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from signalcheck.cli.common import ConfigOption, console, fail, user_errors
from signalcheck.config import Config, ConfigError, load_config
from signalcheck.shipped import EXPERIMENT_SUFFIXES, EXPERIMENTS, experiment_file

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from signalcheck.gameday import Actors, GamedayPlan
    from signalcheck.ledger import Ledger
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
    from signalcheck.cli.chaos import restore_left_open
    from signalcheck.gameday import PROFILES, Gameday
    from signalcheck.gameday.planfile import read_plan
    from signalcheck.gameday.runner import Interrupted

    if plan_file is not None and profile is not None:
        raise ConfigError("--plan and --profile: give one of them")
    if plan_file is None and (profile or "quick") not in PROFILES:
        raise ConfigError(f"--profile: expected one of {', '.join(PROFILES)}, got {profile!r}")
    loaded = load_config(config)
    plan = PROFILES[profile or "quick"] if plan_file is None else read_plan(plan_file, loaded)
    check_experiments(loaded, plan)
    restore_left_open(loaded)
    run = Gameday(loaded, plan, actors(), console)
    console.print(f"game day [bold]{plan.name}[/] in {run.run_dir}", highlight=False)
    try:
        report = run.run()
    except Interrupted as stopped:
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
    from signalcheck.chaos.targets import TargetRefused

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


def actors(experiments: Path = EXPERIMENTS) -> Actors:
    """The feature folders, imported here so that signalcheck/gameday depends on none; the
    game day's experiments are files, or `<name>.json` files in `experiments`."""
    from signalcheck.chaos.actions import restore_run
    from signalcheck.chaos.runner import ChaosRun, Planned, read_experiment, run_lanes
    from signalcheck.gameday import Actors
    from signalcheck.gameday.runner import ChaosDone, ChaosStep
    from signalcheck.load_profiles import LoadError, plan_for
    from signalcheck.loadtests.runner import LoadRunError, run_plan
    from signalcheck.probes.once import run_once
    from signalcheck.probes.traffic import BackgroundTraffic

    def probe_pass(config: Config, ledger: Path) -> list[str]:
        summary, _ = run_once(config, concurrency=8, ledger_path=ledger)
        failures = [
            f"{r['check']} in {r['region']}: {r['error_class']}: {r['error']}"
            for r in summary["results"]
            if r["outcome"] != "success"
        ]
        if not summary["push"]["ok"]:
            failures.append(f"results not pushed: {summary['push']['error']}")
        return failures

    def load(config: Config, gameday_plan: GamedayPlan, run_dir: Path) -> list[str]:
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            plan = plan_for(
                config,
                gameday_plan.load_profile,
                region=gameday_plan.load_region,
                duration=gameday_plan.load_seconds,
            )
            entry = run_plan(plan, run_dir).entry
        except LoadError as exc:
            return [f"the load run did not start: {exc}"]
        except LoadRunError as exc:
            return [f"the load run did not finish: {exc}"]
        return [crossed(t) for t in entry["thresholds"] if not t["passed"]]

    def chaos(
        config: Config,
        lanes: list[list[ChaosStep]],
        done: Callable[[ChaosStep, ChaosDone], None],
    ) -> bool:
        steps = {
            step.run_dir: step for lane in lanes for step in lane
        }  # run directory -> the lane's step

        def finished(planned: Planned, run: ChaosRun) -> None:
            done(steps[planned.run_dir], ChaosDone(run.problems, run.started, run.ended))

        planned = [
            [Planned(experiment_file(s.experiment, experiments), s.run_dir, s.region) for s in lane]
            for lane in lanes
        ]
        return run_lanes(config, planned, finished)

    def titles(gameday_plan: GamedayPlan) -> dict[str, str]:
        folders = {experiment_file(name, experiments).parent for name in gameday_plan.experiments}
        found = {}
        for folder in sorted(folders):
            for path in sorted(folder.iterdir()):
                if path.suffix not in EXPERIMENT_SUFFIXES:
                    continue
                try:
                    found[str(read_experiment(path).get("title", ""))] = path.name
                except ConfigError:
                    continue  # not an experiment (the game day's own were read before)
        return found

    def traffic(config: Config, ledger: Ledger) -> BackgroundTraffic:
        return BackgroundTraffic(config, ledger=ledger)

    return Actors(
        probe_pass=probe_pass,
        load=load,
        chaos=chaos,
        restore=restore_run,
        titles=titles,
        traffic=traffic,
    )


def crossed(threshold: dict[str, Any]) -> str:
    """'threshold p95_ms crossed: measured 812, limit 500' (a `load` entry's threshold)."""
    actual = threshold["actual"]
    measured = "nothing (no request answered)" if actual is None else f"{actual:g}"
    return (
        f"threshold {threshold['name']} crossed: measured {measured}, limit {threshold['limit']:g}"
    )
