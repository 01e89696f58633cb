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
from itertools import count
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config
from signalcheck.errors import BackendError, GamedayError, GamedayInterrupted, WaitTimeout
from signalcheck.evidence import Context, verifications_for
from signalcheck.evidence.backends import BackendSet
from signalcheck.gameday.plan import GamedayPlan, experiment_label
from signalcheck.gameday.report import build_report
from signalcheck.gameday.verdict import skip_problem, unmatched_globs
from signalcheck.gameday.vitals import rum_vitals
from signalcheck.ledger import LEDGER_FILE, Ledger, new_run_dir
from signalcheck.report import ExpectationOutcome, GamedayReport, VitalSummary
from signalcheck.stack import LocalStack
from signalcheck.waiting import wait_for

BASELINE_PASSES = 3
BASELINE_PAUSE = 2.0
SCRAPE_WAIT = 120.0
"""Seconds to wait for a scrape of the load's region after the probe pass before the load."""


@dataclass(frozen=True)
class Actors:
    """What the game day drives; the CLI wires these to probes/, loadtests/ and chaos/."""

    probe_pass: Callable[[Config, Path], list[str]]
    """Run every check in every region once, appending to the ledger at the path; the
    failures, each naming its check and region."""
    load: Callable[[Config, GamedayPlan, Path], list[str]]
    """Run the plan's load profile (reports and its ledger go to the run directory); the
    thresholds it crossed, each naming the threshold, the measured value and the limit."""
    chaos: Callable[[Config, list[list[ChaosStep]], Callable[[ChaosStep, ChaosDone], None]], bool]
    """Run the lanes' chaos experiments, each lane's one after another and the lanes at the
    same time, passing Ctrl-C on to every running one (which rolls back) and starting no
    other; the callback gets each as it ends, in the calling thread; whether interrupted."""
    restore: Callable[[Config, Path], list[str]]
    """Undo every fault the ledger of a run directory still has open; the regions restored."""
    titles: Callable[[GamedayPlan], dict[str, str]]
    """The titles of the experiments the plan's come from (every experiment file in their
    folders), each with its file: what an alert expectation's `experiment` glob may match."""
    traffic: Callable[[Config, Ledger], AbstractContextManager[object]]
    """Background traffic to every region while the block runs (probes/traffic.py), its
    `traffic` entry written to the ledger when it stops."""


@dataclass(frozen=True)
class ChaosStep:
    """One experiment of a lane: the experiment, the region it faults, its run directory."""

    experiment: str
    region: str | None
    run_dir: Path


@dataclass(frozen=True)
class ChaosDone:
    """How an experiment ended: the reasons it failed, and when it ran."""

    problems: list[str]
    start: float
    end: float


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
                        self._chaos(progress)
                    with self._phase(progress, "validation"):
                        self._probes("probe after chaos")
                        self._validate("chaos", since=chaos)
                        self._fail("chaos", self._unmatched_globs(since=chaos))
                vitals = self._vitals(started)
        except KeyboardInterrupt:
            self.console.print("[yellow]interrupted: restoring every injected fault")
            raise GamedayInterrupted(self._restore_all()) from None
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
        self._await_scrape(self.plan.load_region, since=time.time())
        run_dir = self.run_dir / "load"
        self.ledger.append(
            "planned", actor="load", profile=self.plan.load_profile, region=self.plan.load_region
        )
        crossed = self.actors.load(self.config, self.plan, run_dir)
        self._merge_ledger(run_dir)
        self._fail(f"load {self.plan.load_profile}", crossed)

    def _await_scrape(self, region: str, since: float) -> None:
        """Wait until Prometheus scraped the region's targets after `since`, so that the
        counter read before a load's window holds every request sent before it; a problem of
        the verdict when it did not within SCRAPE_WAIT (no target of the region: no wait)."""
        promql = f'min(timestamp(up{{region="{region}"}}))'

        def scraped() -> bool:
            result = prometheus.query(promql)
            return not result or float(result[0]["value"][1]) >= since

        with PrometheusClient(self.config.backends.prometheus) as prometheus:
            try:
                wait_for(
                    scraped, timeout=SCRAPE_WAIT, what=f"a scrape of {region} after {since:.3f}"
                )
            except (WaitTimeout, BackendError) as exc:
                self._fail("load", [f"the load did not wait for a scrape: {exc}"])

    def _chaos(self, progress: Progress) -> None:
        """The plan's lanes at the same time; each experiment is a phase of its own, its
        ledger merged and its problems said as it ends."""
        taken: set[Path] = set()

        def run_dir(name: str) -> Path:
            """chaos-<label>, numbered (-2, -3, ...) when the plan runs an experiment again."""
            base = f"chaos-{experiment_label(name)}"
            found = next(
                path
                for n in count(1)
                if (path := self.run_dir / (base if n == 1 else f"{base}-{n}")) not in taken
            )
            taken.add(found)
            return found

        lanes = [
            [ChaosStep(name, lane.region, run_dir(name)) for name in lane.experiments]
            for lane in self.plan.lanes
        ]
        self.chaos_dirs += [step.run_dir for lane in lanes for step in lane]
        tasks = {
            step.run_dir: progress.add_task(f"chaos: {_where(step)}", total=None)
            for lane in lanes
            for step in lane
        }

        def done(step: ChaosStep, outcome: ChaosDone) -> None:
            label = experiment_label(step.experiment)
            self.ledger.append(
                "phase", name=f"chaos: {label}", start=outcome.start, end=outcome.end,
                region=step.region,
            )  # fmt: skip
            self._merge_ledger(step.run_dir)
            progress.update(
                tasks[step.run_dir],
                description=f"chaos: {_where(step)} [dim]({outcome.end - outcome.start:.0f}s)",
                total=1, completed=1,
            )  # fmt: skip
            self._fail(f"chaos {label}", outcome.problems)

        if self.actors.chaos(self.config, lanes, done):
            raise KeyboardInterrupt

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
            for verification in verifications_for(self.config.expectations):
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

    def _unmatched_globs(self, since: float) -> list[str]:
        entries = [e for e in self.ledger.entries() if e.ts >= since]
        backends = BackendSet(self.config.backends)
        try:
            context = Context(config=self.config, entries=entries, backends=backends)
            titles = self.actors.titles(self.plan)
            return unmatched_globs(self.config.expectations, titles, context)
        finally:
            backends.close()

    def _restore_all(self) -> list[str]:
        restored: list[str] = []
        for run_dir in self.chaos_dirs:
            restored += self.actors.restore(self.config, run_dir)
        return restored


def _where(step: ChaosStep) -> str:
    """'inhibition in eu-west-1' (the experiment alone when it faults its default region)."""
    label = experiment_label(step.experiment)
    return label if step.region is None else f"{label} in {step.region}"
