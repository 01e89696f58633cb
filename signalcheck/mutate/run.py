"""`signalcheck mutate`: shadows up, one exercise, every shadow judged against its ledger.

The exercise is a probe pass, the experiments (with background traffic, like the game day)
and a probe pass after, run ONCE with every shadow up. The real pipeline and every shadow are
then judged at the same time with the same ledger; the real one must be green (else the
baseline is not healthy and nothing can be concluded), and a mutant is caught when an
expectation that passed on the real pipeline fails on its shadow. A shadow that could not be
judged (a process of it exited, or its checks found a backend unavailable and failed none
otherwise) is an error, never a catch.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from signalcheck.config import Config
from signalcheck.errors import BaselineUnhealthy
from signalcheck.evidence import Context, Outcome, verifications_for
from signalcheck.evidence.backends import BackendSet
from signalcheck.ledger import LEDGER_FILE, Entry, Ledger
from signalcheck.mutate.coverage import CoverageReport, Exercise, Injected, Row, survivor_hint
from signalcheck.mutate.derive import Mutant
from signalcheck.mutate.shadows import Shadow, ShadowFleet

SHADOW_KINDS = frozenset(
    {
        "metrics",
        "probes",
        "targets",
        "cardinality",
        "load",
        "rules",
        "quiet",
        "heartbeats",
        "alerts",
    }
)
"""Expectation kinds that read Prometheus, Alertmanager or the notifications, the parts a
shadow changes; traces, logs and RUM read stores no mutant touches (judged on the real
pipeline only)."""


def judged_kinds(mutant: Mutant) -> frozenset[str]:
    """The expectation kinds whose evidence `mutant` can change, judged on its shadow: a scrape
    config, all that the shadow's Prometheus holds; rule files, the alerts it fires, the
    rules it loaded and the queries that may read them (metrics); the Alertmanager config,
    only the notifications. The rest would pass as on the real pipeline, at a cost."""
    if mutant.prometheus is not None:
        return SHADOW_KINDS
    kinds: set[str] = set()
    if mutant.rule_files:
        kinds |= {"alerts", "heartbeats", "quiet", "rules", "metrics"}
    if mutant.alertmanager is not None:
        kinds |= {"alerts", "heartbeats"}
    return frozenset(kinds)


JUDGING_THREADS = 16
"""Pipelines judged at once, the real one among them: a caught mutant's failing check polls
until its budget ends, so judged one after the other N shadows would take N budgets; more
threads than this made judging 24 shadows slower here (2 cores: the judges' queries and the
shadows' Prometheus compete for them: 45.6 s with 25 threads against 38.4 s with 16)."""


@dataclass(frozen=True)
class Actors:
    """What the exercise drives; the CLI wires these to probes/ and chaos/."""

    probe_pass: Callable[[Config, Path], list[str]]
    """One pass of every check in every region, appended to the ledger; the failures."""
    experiment: Callable[[Config, Path, Path], list[str]]
    """Run an experiment file in a run directory; its problems."""
    restore: Callable[[Config, Path], list[str]]
    """Undo every fault a run directory's ledger still has open; the regions restored."""
    traffic: Callable[[Config, Ledger], AbstractContextManager[object]]
    """Background traffic to every region while the block runs, recorded in the ledger."""


def select(mutants: list[Mutant], only: list[str]) -> list[Mutant]:
    """The mutants whose names match one of the globs (all without globs)."""
    if not only:
        return mutants
    return [m for m in mutants if any(fnmatch.fnmatchcase(m.name, g) for g in only)]


def judge(
    config: Config, entries: list[Entry], kinds: frozenset[str] | None = None
) -> dict[str, Outcome]:
    """Every verification of `config`'s expectations (of `kinds`, default all) on `entries`."""
    backends = BackendSet(config.backends)
    context = Context(config=config, entries=entries, backends=backends)
    outcomes: dict[str, Outcome] = {}
    try:
        for verification in verifications_for(config.expectations):
            if kinds is None or verification.kind in kinds:
                outcomes[verification.id] = verification.judge(context)
    finally:
        backends.close()
    return outcomes


@dataclass
class Exercised:
    """One finished exercise with its shadows still up: judge it against any config."""

    config: Config
    exercise: Exercise
    entries: list[Entry]
    shadows: list[Shadow]
    not_run: dict[str, str]
    """Mutant name -> why it got no shadow (an error to report)."""
    mutants: list[Mutant]
    started: float

    def coverage(self, config: Config | None = None) -> CoverageReport:
        """The coverage table of `config`'s expectations (default: the exercise's config).
        What the exercise reached stays the exercise's: another config (e.g. one expectation
        deleted) changes only who notices."""
        config = config or self.config
        with ThreadPoolExecutor(JUDGING_THREADS, thread_name_prefix="judge") as pool:
            judging = {
                s.mutant.name: pool.submit(
                    judge, s.judged_config(config), self.entries, judged_kinds(s.mutant)
                )
                for s in self.shadows
            }
            real = judge(config, self.entries)
            failed = [f"{cid}: {o.summary}" for cid, o in real.items() if not o.passed]
            if failed:
                pool.shutdown(wait=False, cancel_futures=True)
                raise BaselineUnhealthy("the real pipeline is not green: " + " | ".join(failed))
            baseline = sorted(cid for cid, o in real.items() if o.skipped is None)
            shadows = {name: future.result() for name, future in judging.items()}
        exited = {s.mutant.name: s.exited() for s in self.shadows}
        return CoverageReport(
            experiments=self.exercise.experiments,
            rows=[
                self._row(m, baseline, shadows.get(m.name), exited.get(m.name, ""))
                for m in self.mutants
            ],
            baseline=baseline,
            wall_seconds=time.time() - self.started,
        )

    def _row(
        self,
        mutant: Mutant,
        baseline: list[str],
        outcomes: dict[str, Outcome] | None,
        exited: str,
    ) -> Row:
        """The mutant's row, from its shadow's outcomes (None when it had no shadow) and what
        of its shadow had exited by the end of the judging ('' when nothing)."""
        row = Row(mutant.name, mutant.part, mutant.change, "error")
        if mutant.error:
            return replace(row, why=mutant.error)
        missing = self.exercise.missing(mutant)
        if missing is not None:
            return replace(row, status="not exercised", why=missing)
        if outcomes is None:
            return replace(row, why=self.not_run.get(mutant.name, "no shadow ran"))
        if exited:
            return replace(row, why=f"its shadow could not be judged: {exited}")
        judged = [(cid, outcomes[cid]) for cid in baseline if cid in outcomes]
        caught_by = [cid for cid, o in judged if not o.passed and o.error is None]
        if caught_by:
            return replace(row, status="caught", caught_by=caught_by)
        errors = [f"{cid}: {o.error}" for cid, o in judged if o.error is not None]
        if errors:
            return replace(row, why="could not be judged: " + " | ".join(errors))
        return replace(row, status="not caught", why=survivor_hint(mutant))


@dataclass
class Mutation:
    config: Config
    mutants: list[Mutant]
    experiments: list[Path]
    injected: Injected
    actors: Actors
    run_dir: Path
    max_shadows: int
    say: Callable[[str], None] = lambda line: None

    @contextmanager
    def exercised(self) -> Iterator[Exercised]:
        """Shadows up, the one exercise run; yields it for judging, then stops every shadow
        (also on errors and Ctrl-C, after restoring every fault the experiments left open)."""
        started = time.time()
        exercise = Exercise.of(
            self.config.expectations, [p.stem for p in self.experiments], self.injected
        )
        wanted = [m for m in self.mutants if not m.error and exercise.missing(m) is None]
        shadowed, over = wanted[: self.max_shadows], wanted[self.max_shadows :]
        not_run = {
            m.name: f"not run: more than --max-shadows {self.max_shadows} mutants are exercised"
            for m in over
        }
        self.say(f"starting {len(shadowed)} shadow pipeline(s)")
        with ShadowFleet(self.config, shadowed, self.run_dir / "shadows") as fleet:
            ledger = Ledger(self.run_dir / LEDGER_FILE)
            self._exercise(ledger)
            yield Exercised(
                self.config, exercise, ledger.entries(), fleet.shadows, not_run, self.mutants,
                started,
            )  # fmt: skip

    def _exercise(self, ledger: Ledger) -> None:
        problems: list[str] = []
        chaos_dirs: list[Path] = []
        try:
            problems += self._probes(ledger)
            with self.actors.traffic(self.config, ledger):
                for experiment in self.experiments:
                    self.say(f"experiment {experiment.stem}")
                    run_dir = self.run_dir / f"chaos-{experiment.stem}"
                    chaos_dirs.append(run_dir)
                    problems += [
                        f"chaos {experiment.stem}: {p}"
                        for p in self.actors.experiment(self.config, experiment, run_dir)
                    ]
                    _merge(ledger, run_dir)
            problems += self._probes(ledger)
        except KeyboardInterrupt:
            for run_dir in chaos_dirs:
                self.actors.restore(self.config, run_dir)
            raise
        if problems:
            raise BaselineUnhealthy("the exercise failed: " + " | ".join(problems))

    def _probes(self, ledger: Ledger) -> list[str]:
        self.say("probe pass")
        ledger.append("planned", actor="probe", passes=1)
        return [f"probe {p}" for p in self.actors.probe_pass(self.config, ledger.path)]


def _merge(ledger: Ledger, run_dir: Path) -> None:
    """Copy a sub-run's entries (planned faults, faults) into the exercise's ledger."""
    sub = Ledger(run_dir / LEDGER_FILE)
    if sub.path.exists():
        for entry in sub.entries():
            ledger.append(entry.kind, **entry.model_dump(exclude={"kind"}))
