"""The actors: the feature folders (probes/, loadtests/, chaos/, the background traffic) wired
to what the game day and `signalcheck mutate` drive. The features are imported inside the
functions, so that signalcheck/gameday and signalcheck/mutate depend on none of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signalcheck.config import Config
from signalcheck.evidence.experiments import folder_titles
from signalcheck.gameday import Actors as GamedayActors
from signalcheck.gameday import GamedayPlan
from signalcheck.gameday.runner import ChaosDone, ChaosStep
from signalcheck.ledger import Ledger
from signalcheck.mutate.run import Actors as MutateActors
from signalcheck.shipped import EXPERIMENTS, experiment_file

if TYPE_CHECKING:
    from signalcheck.probes.traffic import BackgroundTraffic


def gameday_actors(experiments: Path = EXPERIMENTS) -> GamedayActors:
    """What the game day drives; its experiments are files, or `<name>.json` files in
    `experiments`."""
    from signalcheck.chaos.restore import restore_run
    from signalcheck.chaos.runner import ChaosRun, Planned, run_lanes
    from signalcheck.errors import LoadError, LoadRunError
    from signalcheck.load_profiles import plan_for
    from signalcheck.loadtests.runner import run_plan
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
        return folder_titles(
            *(experiment_file(name, experiments).parent for name in gameday_plan.experiments)
        )

    def traffic(config: Config, ledger: Ledger) -> BackgroundTraffic:
        return BackgroundTraffic(config, ledger=ledger)

    return GamedayActors(
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


def mutate_actors() -> MutateActors:
    """What `signalcheck mutate` drives: the game day's probe pass, restore and traffic, and
    one experiment run at a time."""
    from signalcheck.chaos.runner import run_experiment

    shared = gameday_actors()

    def experiment(config: Config, path: Path, run_dir: Path) -> list[str]:
        outcome = run_experiment(config, path, run_dir=run_dir)
        if outcome.interrupted:
            raise KeyboardInterrupt
        return outcome.problems

    return MutateActors(
        probe_pass=shared.probe_pass,
        experiment=experiment,
        restore=shared.restore,
        traffic=shared.traffic,
    )
