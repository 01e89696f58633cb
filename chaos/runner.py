"""`signalcheck chaos run`: the stock `chaos run` with the stack's configuration, the journal
in a new run directory, and a verdict that also fails a steady state not met before the
method (stock `chaos run` exits 0 then), and a planned fault never injected or never restored.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslib.configuration import load_configuration
from chaoslib.exceptions import ChaosException, InvalidExperiment
from chaoslib.loader import parse_experiment_from_file

from signalcheck.chaos.context import DRY_ENV, EXPERIMENT_FILE_ENV, RUN_DIR_ENV
from signalcheck.chaos.faultlog import unmet_plans
from signalcheck.chaos.marks import SECTIONS, check_marks
from signalcheck.chaos.targets import ACTIONS_MODULE, check_experiment
from signalcheck.config import CONFIG_ENV, Config
from signalcheck.errors import ConfigError, MarkError
from signalcheck.ledger import LEDGER_FILE, Ledger, new_run_dir
from signalcheck.terminal import colour_allowed, relay_plain

JOURNAL_FILE = "journal.json"
CHAOS_LOG_FILE = "chaostoolkit.log"
RUN_TIMEOUT = 3600.0
ROLLBACK_GRACE = 120.0
RELAY_GRACE = 5.0
"""Seconds to wait, after `chaos` exits, for the last of its output to be copied."""


@dataclass(frozen=True)
class ChaosRun:
    run_dir: Path
    returncode: int
    problems: list[str]
    interrupted: bool = False
    """SIGINT or SIGTERM arrived and was passed on to `chaos` (which rolled back)."""
    started: float = 0.0
    ended: float = 0.0
    """When `chaos` was started and when it was seen to end (Unix seconds)."""

    @property
    def journal(self) -> Path:
        return self.run_dir / JOURNAL_FILE

    @property
    def ledger(self) -> Path:
        return self.run_dir / LEDGER_FILE

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0


REGION_ENV = "SIGNALCHECK_CHAOS_REGION"
"""The region the shipped experiments fault (their `region` configuration)."""
POLL_SECONDS = 0.2
"""How often a batch of running experiments is looked at."""


@dataclass(frozen=True)
class Planned:
    """One experiment of a batch: its file, its run directory, and the region it faults
    (`$SIGNALCHECK_CHAOS_REGION`; None: the experiment's own default)."""

    experiment: Path
    run_dir: Path
    region: str | None = None


def run_experiment(
    config: Config,
    experiment: Path,
    *,
    dry: bool = False,
    timeout: float = RUN_TIMEOUT,
    run_dir: Path | None = None,
) -> ChaosRun:
    """Run `experiment` with `chaos run` in `run_dir` (default: a new run directory) and judge
    its journal and its ledger's faults. An experiment file that cannot be read (ConfigError)
    or that targets something outside the allowlist (TargetRefused) is refused before
    anything is started or written.

    SIGINT and SIGTERM are passed on to `chaos`, which then rolls back; after `timeout`
    seconds it gets SIGTERM, and SIGKILL if it has not finished its rollbacks
    `ROLLBACK_GRACE` seconds later.
    """
    check_targets(config, read_experiment(experiment))
    planned = Planned(experiment, run_dir or new_run_dir(config.runs_dir))
    runs: list[ChaosRun] = []
    run_lanes(config, [[planned]], lambda _, run: runs.append(run), dry=dry, timeout=timeout)
    return runs[0]


def run_lanes(
    config: Config,
    lanes: list[list[Planned]],
    finished: Callable[[Planned, ChaosRun], None],
    *,
    dry: bool = False,
    timeout: float = RUN_TIMEOUT,
) -> bool:
    """Run each lane's experiments one after another, the lanes at the same time (a game day
    faults different regions at once); `finished` gets each run as it ends, in this thread.
    Every experiment is read and checked against the allowlist first (ConfigError,
    TargetRefused: nothing started). SIGINT and SIGTERM are passed on to every running
    `chaos` (which rolls back) and start no further experiment; whether one arrived."""
    for lane in lanes:
        for planned in lane:
            check_targets(config, read_experiment(planned.experiment), _region_env(planned))
    queues = [list(lane) for lane in lanes]
    running: dict[int, _Running] = {}
    received: list[int] = []

    def pass_on(signum: int, _frame: object) -> None:
        received.append(signum)
        for run in running.values():
            run.process.send_signal(signum)

    previous = {sig: signal.signal(sig, pass_on) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            for index, queue in enumerate(queues):
                if index not in running and queue and not received:
                    running[index] = _start(config, queue.pop(0), dry=dry, timeout=timeout)
            if not running:
                return bool(received)
            for index, run in list(running.items()):
                if run.ended():
                    del running[index]
                    finished(run.planned, run.judge(interrupted=bool(received)))
            time.sleep(POLL_SECONDS)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class _Running:
    """A started `chaos run`, given up on (SIGTERM, then SIGKILL) past its deadline."""

    planned: Planned
    process: subprocess.Popen
    relay: threading.Thread | None
    deadline: float
    experiment: Path
    timeout: float
    started: float
    gave_up: bool = False

    def ended(self) -> bool:
        if self.process.poll() is not None:
            return True
        if time.monotonic() > self.deadline:
            if not self.gave_up:
                self.gave_up = True
                self.process.terminate()
                self.deadline = time.monotonic() + ROLLBACK_GRACE
            else:
                self.process.kill()
                self.process.wait(timeout=ROLLBACK_GRACE)
                return True
        return False

    def judge(self, *, interrupted: bool) -> ChaosRun:
        """The run's verdict from its journal and its ledger's faults."""
        if self.relay is not None:
            self.relay.join(timeout=RELAY_GRACE)
        run_dir = self.planned.run_dir
        journal = run_dir / JOURNAL_FILE
        if journal.exists():
            problems = journal_problems(json.loads(journal.read_text()))
        else:
            problems = [f"chaos exited with {self.process.returncode} and wrote no journal"]
        problems += unmet_plans(Ledger(run_dir / LEDGER_FILE))
        if self.gave_up:
            problems.insert(
                0, f"gave up after {self.timeout:g}s waiting for chaos run {self.experiment}"
            )
        return ChaosRun(
            run_dir, self.process.returncode, problems, interrupted, self.started, time.time()
        )


def _start(config: Config, planned: Planned, *, dry: bool, timeout: float) -> _Running:
    run_dir = planned.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    experiment = planned.experiment
    loaded = read_experiment(experiment)
    if dry:
        experiment = run_dir / f"{experiment.stem}.dry.json"
        experiment.write_text(json.dumps(without_pauses(loaded), indent=2))
    plain = not colour_allowed(sys.stderr)  # chaoslib colours its log lines even in a file
    started = time.time()
    process = subprocess.Popen(
        chaos_command(experiment, run_dir, dry=dry_mode(loaded) if dry else None),
        env={
            **chaos_env(config, run_dir, dry=dry),
            **_region_env(planned),
            EXPERIMENT_FILE_ENV: str(planned.experiment.resolve()),
        },
        stderr=subprocess.PIPE if plain else None,
        start_new_session=True,
    )
    relay = relay_plain(process.stderr) if process.stderr else None
    deadline = time.monotonic() + timeout
    return _Running(planned, process, relay, deadline, experiment, timeout, started)


def _region_env(planned: Planned) -> dict[str, str]:
    return {} if planned.region is None else {REGION_ENV: planned.region}


def read_experiment(path: Path) -> dict[str, Any]:
    """The experiment as `chaos run` parses it; a one-line ConfigError naming the file and
    where it breaks when it is not one."""
    try:
        experiment = parse_experiment_from_file(str(path))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read experiment ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except (UnicodeDecodeError, ChaosException) as exc:
        raise ConfigError(f"{path}: {' '.join(str(exc).split())}") from None
    if not isinstance(experiment, dict):
        raise ConfigError(
            f"{path}: expected an experiment (an object), got {type(experiment).__name__}"
        )
    try:
        check_marks(experiment)
    except MarkError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return experiment


def check_targets(
    config: Config, experiment: dict[str, Any], env: dict[str, str] | None = None
) -> None:
    """TargetRefused, before anything runs, when an action of `experiment` targets something
    outside the allowlist, with its configuration resolved as `chaos run` will resolve it
    (from the environment, and `env` on top)."""
    declared = experiment.get("configuration") or {}
    environ = {**os.environ, **(env or {})}
    from_env = {
        key: environ[value["key"]]
        for key, value in declared.items()
        if isinstance(value, dict) and value.get("type") == "env" and value.get("key") in environ
    }
    try:
        configuration = load_configuration(declared, from_env)
    except InvalidExperiment as exc:
        raise ConfigError(f"experiment {experiment.get('title')!r}: {exc}") from None
    check_experiment(config, experiment, configuration)


def without_pauses(experiment: dict[str, Any]) -> dict[str, Any]:
    """`experiment` with no activity's `pauses`: a dry run says what it would do at once
    (Chaos Toolkit's own dry modes keep the pauses of the activities they run)."""

    def unpaused(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in a.items() if k != "pauses"} for a in activities]

    changed: dict[str, Any] = {s: unpaused(experiment[s]) for s in SECTIONS if experiment.get(s)}
    steady = experiment.get("steady-state-hypothesis")
    if steady and steady.get("probes"):
        changed["steady-state-hypothesis"] = {**steady, "probes": unpaused(steady["probes"])}
    return {**experiment, **changed}


def dry_mode(experiment: dict[str, Any]) -> str:
    """What `chaos run --dry` skips: the probes (which would wait for alerts that cannot come)
    when every action is one of `signalcheck.chaos.actions` (they only say what they would do),
    else every activity: another provider's action would really run."""
    actions = [a for section in SECTIONS for a in experiment.get(section) or []]
    stock = [
        a
        for a in actions
        if a.get("type") == "action" and (a.get("provider") or {}).get("module") != ACTIONS_MODULE
    ]
    return "activities" if stock else "probes"


def chaos_command(experiment: Path, run_dir: Path, *, dry: str | None) -> list[str]:
    """`chaos run` of `experiment`, `--dry` with the given mode when set."""
    return [
        sys.executable, "-m", "chaostoolkit", "--no-version-check",
        "--log-file", str(run_dir / CHAOS_LOG_FILE),
        "run", "--journal-path", str(run_dir / JOURNAL_FILE),
        *(["--dry", dry] if dry else []),
        str(experiment),
    ]  # fmt: skip


def chaos_env(config: Config, run_dir: Path, *, dry: bool) -> dict[str, str]:
    """The environment the experiments document: config file, run directory, dry mode."""
    env = {**os.environ, RUN_DIR_ENV: str(run_dir), DRY_ENV: "1" if dry else ""}
    if config.source is not None:
        env[CONFIG_ENV] = str(Path(config.source).resolve())
    return env


def journal_problems(journal: dict[str, Any]) -> list[str]:
    """Why a journal is not a success; empty when it is. An experiment that declares no
    steady-state hypothesis has none to miss."""
    problems = []
    if journal.get("status") != "completed":
        problems.append(f"experiment status is {journal.get('status')!r}, not 'completed'")
    states = journal.get("steady_states") or {}
    experiment = journal.get("experiment")
    exploring = isinstance(experiment, dict) and not experiment.get("steady-state-hypothesis")
    for moment in () if exploring else ("before", "after"):
        state = states.get(moment)
        if not state or not state.get("steady_state_met"):
            problems.append(f"steady state not met {moment} the method{_missed(state)}")
    failed = [
        run["activity"]["name"]
        for run in journal.get("run") or []
        if run.get("status") != "succeeded"
    ]
    if failed:
        problems.append(f"method activities failed: {', '.join(failed)}")
    return problems


def _missed(state: dict[str, Any] | None) -> str:
    if not state:
        return " (not checked)"
    missed = [
        f"{p['activity']['name']} = {p.get('output')!r}"
        for p in state.get("probes", [])
        if not p.get("tolerance_met", False)
    ]
    return f": {'; '.join(missed)}" if missed else ""
