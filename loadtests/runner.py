"""Run a load plan with Locust in subprocesses: one local process, or a master and workers.

Locust (and gevent's monkey-patching) stays out of the calling process. Every process is
started here and stopped here by PID; the run is bounded by the plan's duration plus fixed
allowances for start-up and draining. Reports land in the run directory:
`locust_stats.csv` (and `_history`, `_failures`, `_exceptions`), `locust-report.html`,
`load-result.json`, the logs, and the `load` entry in `ledger.jsonl`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signalcheck.errors import LoadRunError
from signalcheck.ledger import LEDGER_FILE
from signalcheck.load_profiles import LoadPlan
from signalcheck.loadtests.plan import PLAN_OPTION, SHAPE_ENV
from signalcheck.loadtests.userfile import read_locustfile
from signalcheck.processes import last_line
from signalcheck.stack.ports import free_port

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
"""The shipped users and signalcheck's hooks."""
HOOKS_LOCUSTFILE = Path(__file__).resolve().parent / "hooks_locustfile.py"
"""signalcheck's hooks alone, run beside a user's own locustfile."""
RESULT_FILE = "load-result.json"
CSV_PREFIX = "locust"
HTML_REPORT = "locust-report.html"
STARTUP_ALLOWANCE = 60.0
STOP_GRACE = 10.0
POLL_INTERVAL = 1.0


@dataclass(frozen=True)
class RunProgress:
    """What the run looks like now, from Locust's stats history CSV."""

    elapsed: float
    users: int
    rps: float
    requests: int
    failures: int


@dataclass(frozen=True)
class LoadOutcome:
    run_dir: Path
    entry: dict[str, Any]

    @property
    def passed(self) -> bool:
        return bool(self.entry["passed"])


@dataclass(frozen=True)
class Distribution:
    """Locust's distributed mode: `local` workers started here, `remote` ones started elsewhere."""

    local: int = 0
    remote: int = 0
    bind_host: str = "127.0.0.1"
    bind_port: int | None = None
    """Default: a free port (`signalcheck load` picks it in the config's stack.port_range)."""

    @property
    def workers(self) -> int:
        return self.local + self.remote


def run_plan(
    plan: LoadPlan,
    run_dir: Path,
    distribution: Distribution = Distribution(),
    on_progress: Callable[[RunProgress], None] = lambda progress: None,
) -> LoadOutcome:
    """Run `plan` to its end; the `load` entry goes to the run directory's ledger. A plan
    with a locustfile runs its users (and its shape, if it has one) beside signalcheck's hooks;
    LoadError, before Locust starts, when that file defines no User class."""
    plan = read_locustfile(plan).model_copy(
        update={"ledger": run_dir / LEDGER_FILE, "result": run_dir / RESULT_FILE}
    )
    port = distribution.bind_port or free_port()
    master_log = run_dir / "locust-master.log"
    deadline_s = plan.duration + plan.stop_timeout + STARTUP_ALLOWANCE + 30
    master = _start(_master_argv(plan, run_dir, distribution, port), master_log, plan)
    workers = [
        _start(_worker_argv(plan, port), run_dir / f"locust-worker-{n}.log", plan)
        for n in range(1, distribution.local + 1)
    ]
    try:
        _follow(master, run_dir, time.monotonic() + deadline_s, on_progress)
    finally:
        for process in [master, *workers]:
            _stop(process)
    if not plan.result.exists():
        raise LoadRunError(
            f"locust exited with code {master.returncode} without a result; see {master_log}: "
            f"{last_line(master_log)}"
        )
    return LoadOutcome(run_dir=run_dir, entry=json.loads(plan.result.read_text()))


def _master_argv(plan: LoadPlan, run_dir: Path, distribution: Distribution, port: int) -> list[str]:
    argv = [
        *_locust(plan),
        "--headless",
        "--host", plan.host,
        PLAN_OPTION, plan.model_dump_json(),
        "--csv", str(run_dir / CSV_PREFIX),
        "--html", str(run_dir / HTML_REPORT),
        "--stop-timeout", f"{plan.stop_timeout:g}",
        "--exit-code-on-error", "0",
        "--only-summary",
    ]  # fmt: skip
    if distribution.workers:
        argv += [
            "--master",
            "--master-bind-host", distribution.bind_host,
            "--master-bind-port", str(port),
            "--expect-workers", str(distribution.workers),
            "--expect-workers-max-wait", f"{STARTUP_ALLOWANCE:g}",
        ]  # fmt: skip
    return argv


def _worker_argv(plan: LoadPlan, port: int) -> list[str]:
    return [*_locust(plan), "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]


def _locust(plan: LoadPlan) -> list[str]:
    """Locust with the shipped locustfile, or with the user's own and the hooks-only one."""
    files = [LOCUSTFILE] if plan.locustfile is None else [plan.locustfile, HOOKS_LOCUSTFILE]
    return [sys.executable, "-m", "locust", "-f", ",".join(str(f) for f in files)]


def _start(argv: list[str], log: Path, plan: LoadPlan) -> subprocess.Popen[bytes]:
    """Start one Locust process; its log and final summary go to `log`. The profile's shape
    is bound unless the user's locustfile has its own."""
    env = {k: v for k, v in os.environ.items() if k != SHAPE_ENV}
    if plan.own_shape is None:
        env[SHAPE_ENV] = plan.shape
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )


def _follow(
    master: subprocess.Popen[bytes],
    run_dir: Path,
    deadline: float,
    on_progress: Callable[[RunProgress], None],
) -> None:
    """Report progress until the master exits; LoadRunError when it overruns `deadline`."""
    began = time.monotonic()
    history = run_dir / f"{CSV_PREFIX}_stats_history.csv"
    while master.poll() is None:
        if time.monotonic() > deadline:
            raise LoadRunError(
                f"locust did not finish within {deadline - began:.0f}s; stopped it "
                f"(see {run_dir / 'locust-master.log'})"
            )
        progress = read_progress(history, time.monotonic() - began)
        if progress is not None:
            on_progress(progress)
        with contextlib.suppress(subprocess.TimeoutExpired):
            master.wait(timeout=POLL_INTERVAL)


def read_progress(history: Path, elapsed: float) -> RunProgress | None:
    """The newest aggregated row of Locust's stats history CSV, if there is one yet."""
    try:
        with history.open(newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if row.get("Name") == "Aggregated"]
    except OSError:
        return None
    if not rows:
        return None
    row = rows[-1]
    try:
        return RunProgress(
            elapsed=elapsed,
            users=int(row["User Count"]),
            rps=float(row["Requests/s"]),
            requests=int(row["Total Request Count"]),
            failures=int(row["Total Failure Count"]),
        )
    except (KeyError, ValueError):
        return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Let a process exit on its own for a moment, then SIGTERM, then SIGKILL it (by PID)."""
    for signal_it in (lambda: None, process.terminate, process.kill):
        signal_it()
        try:
            process.wait(timeout=STOP_GRACE)
            return
        except subprocess.TimeoutExpired:
            continue
