"""Run a game day: stack, baseline, load, chaos, with validation after each phase.

The verdict covers the actors as well as the expectations: every reason an actor failed (a
baseline probe, a crossed load threshold, a steady state not met, a planned fault not
injected or not restored) and every skip the plan needed becomes one of the report's problems.
Before acting, the game day writes a `planned` entry for each of its own actors (probe
passes, load); the chaos control writes one per fault.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from signalcheck.backends.base import BackendError
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config, ConfigError
from signalcheck.errors import SignalcheckError
from signalcheck.evidence import Context, plan
from signalcheck.evidence.backends import BackendSet
from signalcheck.gameday.plan import GamedayPlan, experiment_label
from signalcheck.gameday.report import build_report
from signalcheck.gameday.verdict import skip_problem
from signalcheck.gameday.vitals import rum_vitals
from signalcheck.ledger import LEDGER_FILE, Ledger, new_run_dir
from signalcheck.report import ExpectationOutcome, GamedayReport, VitalSummary
from signalcheck.stack import LocalStack

BASELINE_PASSES = 3
BASELINE_PAUSE = 2.0


@dataclass(frozen=True)
class Actors:
    """What the game day drives; the CLI wires these to probes/, loadtests/ and chaos/."""

    probe_pass: Callable[[Config, Path], list[str]]
    """Run every check in every region once, appending to the ledger at the path; the
    failures, each naming its check and region."""
    load: Callable[[Config, GamedayPlan, Path], list[str]]
    """Run the plan's load profile (reports and its ledger go to the run directory); the
    thresholds it crossed, each naming the threshold, the measured value and the limit."""
    experiment: Callable[[Config, str, Path], tuple[list[str], bool]]
    """Run the named chaos experiment in a run directory: (problems, interrupted)."""
    restore: Callable[[Config, Path], list[str]]
    """Undo every fault the ledger of a run directory still has open; the regions restored."""
    traffic: Callable[[Config, Ledger], AbstractContextManager[object]]
    """Background traffic to every region while the block runs (probes/traffic.py), its
    `traffic` entry written to the ledger when it stops."""


class GamedayError(ConfigError):
    """The game day cannot start: nothing was done."""


class Interrupted(SignalcheckError):
    """The user stopped the game day; every fault was restored."""


class Gameday:
    def __init__(self, config: Config, gameday: GamedayPlan, actors: Actors, console: Console):
        self.config = config
        self.plan = gameday
        self.actors = actors
        self.console = console
        self.run_dir = new_run_dir(config.runs_dir)
        self.ledger = Ledger(self.run_dir / LEDGER_FILE)
        self.outcomes: list[ExpectationOutcome] = []
        self.problems: list[str] = []
        self.chaos_dirs: list[Path] = []

    def run(self) -> GamedayReport:
        """The whole exercise; stops what it started and restores every fault, also on Ctrl-C."""
        started = time.time()
        stack = LocalStack(self.config, on_event=lambda line: None)
        own_stack = False
        progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=self.console,
        )  # fmt: skip
        try:
            with progress:
                with self._phase(progress, "stack"):
                    own_stack = self._ensure_stack(stack)
                if "baseline" in self.plan.phases:
                    baseline = time.time()
                    with self._phase(progress, "baseline"):
                        self._probes("baseline probe", BASELINE_PASSES)
                        self._validate("baseline", since=baseline)
                if "load" in self.plan.phases:
                    load = time.time()
                    with self._phase(progress, f"load: {self.plan.load_profile}"):
                        self._load()
                        self._validate("load", since=load)
                if "chaos" in self.plan.phases and self.plan.experiments:
                    chaos = time.time()
                    with self.actors.traffic(self.config, self.ledger):
                        for name in self.plan.experiments:
                            with self._phase(progress, f"chaos: {experiment_label(name)}"):
                                self._experiment(name)
                    with self._phase(progress, "validation"):
                        self._probes("probe after chaos")
                        self._validate("chaos", since=chaos)
                vitals = self._vitals(started)
        except KeyboardInterrupt:
            self.console.print("[yellow]interrupted: restoring every injected fault")
            raise Interrupted(self._restore_all()) from None
        finally:
            if own_stack:
                stack.down()
        return build_report(
            self.config, self.plan, self.ledger, self.outcomes, started,
            vitals=vitals, problems=self.problems,
        )  # fmt: skip

    def _vitals(self, started: float) -> list[VitalSummary]:
        """The RUM store's web vitals of the run (read before the stack stops); a store that
        does not answer is one of the verdict's problems, not a crash."""
        try:
            return rum_vitals(self.config, started, time.time())
        except BackendError as exc:
            self._fail("rum", [f"web vitals not read: {exc}"])
            return []

    @contextmanager
    def _phase(self, progress: Progress, name: str) -> Iterator[None]:
        task = progress.add_task(name, total=None)
        start = time.time()
        try:
            yield
        finally:
            end = time.time()
            self.ledger.append("phase", name=name, start=start, end=end)
            progress.update(task, description=f"{name} [dim]({end - start:.0f}s)", total=1)
            progress.update(task, completed=1)

    def _ensure_stack(self, stack: LocalStack) -> bool:
        """Start the local stack unless the configured Prometheus already answers. A stack
        the game day starts itself starts fresh: a previous game day's burn-rate windows and
        counters must not page or count in this one (a half-running stack is healed instead).
        A Prometheus other than the local stack's (remote backends) is never replaced by a
        local stack: when it does not answer, the game day stops there."""
        with PrometheusClient(self.config.backends.prometheus) as prometheus:
            try:
                prometheus.check_reachable()
                return False
            except BackendError as exc:
                if not self._local_prometheus():
                    raise GamedayError(
                        f"backends.prometheus does not answer ({exc}); a game day against "
                        "remote backends starts no local stack"
                    ) from None
        stack.up(fresh=not stack.running())
        return True

    def _local_prometheus(self) -> bool:
        """Whether backends.prometheus is the local stack's (the default when none is set)."""
        configured = str(self.config.backends.prometheus.url).rstrip("/")
        return configured == f"http://127.0.0.1:{self.config.stack.ports.prometheus}"

    def _probes(self, who: str, passes: int = 1) -> None:
        """`passes` probe passes (planned first), pushed like `signalcheck probe --once`; each
        failure is a problem of `who`."""
        self.ledger.append("planned", actor="probe", passes=passes)
        failures: list[str] = []
        for n in range(passes):
            failures += self.actors.probe_pass(self.config, self.ledger.path)
            if n < passes - 1:
                time.sleep(BASELINE_PAUSE)
        self._fail(who, list(dict.fromkeys(failures)))

    def _load(self) -> None:
        """One probe pass, then the load profile: the load phase's validation judges the
        probes' telemetry as well as the load's own evidence, and the probes' requests stay
        out of the load's window (the service must count exactly the load's requests)."""
        self._probes("probe before load")
        run_dir = self.run_dir / "load"
        self.ledger.append(
            "planned", actor="load", profile=self.plan.load_profile, region=self.plan.load_region
        )
        crossed = self.actors.load(self.config, self.plan, run_dir)
        self._merge_ledger(run_dir)
        self._fail(f"load {self.plan.load_profile}", crossed)

    def _experiment(self, name: str) -> None:
        run_dir = self.run_dir / f"chaos-{experiment_label(name)}"
        self.chaos_dirs.append(run_dir)
        problems, interrupted = self.actors.experiment(self.config, name, run_dir)
        self._merge_ledger(run_dir)
        if interrupted:
            raise KeyboardInterrupt
        self._fail(f"chaos {experiment_label(name)}", problems)

    def _fail(self, actor: str, problems: list[str]) -> None:
        """Each problem of an actor is a reason the game day fails; say it as it happens."""
        for problem in problems:
            self.problems.append(f"{actor}: {problem}")
            self.console.print(
                f"[red]{actor}:[/] {escape(problem)}", highlight=False, soft_wrap=True
            )

    def _merge_ledger(self, run_dir: Path) -> None:
        """Copy a sub-run's entries (load, planned faults, faults, detections) into the game
        day's ledger."""
        sub = Ledger(run_dir / LEDGER_FILE)
        if sub.path.exists():
            for entry in sub.entries():
                self.ledger.append(entry.kind, **entry.model_dump(exclude={"kind"}))

    def _validate(self, phase: str, since: float) -> None:
        """Run every expectation against what the phase did (the ledger's entries since
        `since`); each outcome joins the report under the phase's name."""
        entries = [e for e in self.ledger.entries() if e.ts >= since]
        backends = BackendSet(self.config.backends)
        context = Context(config=self.config, entries=entries, backends=backends)
        try:
            for verification in plan(self.config.expectations):
                outcome = verification.judge(context)
                self.outcomes.append(
                    ExpectationOutcome(
                        name=f"{phase} / {verification.id}",
                        kind=verification.kind,
                        passed=outcome.passed,
                        time_to_appear=outcome.time_to_appear,
                        appeared_within=outcome.appeared_within,
                        query=outcome.query,
                        message="" if outcome.passed else outcome.summary,
                        skipped=outcome.skipped,
                    )
                )
                if (problem := skip_problem(verification, outcome, context)) is not None:
                    self._fail(phase, [problem])
        finally:
            backends.close()

    def _restore_all(self) -> list[str]:
        restored: list[str] = []
        for run_dir in self.chaos_dirs:
            restored += self.actors.restore(self.config, run_dir)
        return restored
