"""Start detached processes and stop exactly those, by PID and start time."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import psutil
from pydantic import BaseModel

STOP_GRACE_SECONDS = 10.0


class Started(BaseModel):
    """A process the stack started: enough to find it again and to stop only it."""

    name: str
    pid: int
    since_boot: float
    """When it started, in seconds after boot (see `since_boot`)."""
    url: str
    ready_path: str
    log: Path


def since_boot(proc: psutil.Process) -> float:
    """When `proc` started, in seconds after boot: it tells a process from a later one with the
    same PID. psutil's create_time is the boot time plus this on the wall clock, so it moves
    when the clock is stepped (NTP, a resumed VM); this does not."""
    return proc.create_time() - psutil.boot_time()


def running(pid: int, started_since_boot: float) -> psutil.Process | None:
    """The live process `pid` if it is the one that started `started_since_boot` seconds after
    boot; None when it is gone, a zombie, or the PID was reused."""
    try:
        proc = psutil.Process(pid)
        if abs(since_boot(proc) - started_since_boot) > 0.05:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.NoSuchProcess:
        return None


def start(argv: list[str], env: dict[str, str], log: Path) -> psutil.Process:
    """Start `argv` in its own session (so it outlives the CLI), output to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return psutil.Process(proc.pid)


def find(started: Started) -> psutil.Process | None:
    """The live process recorded in `started`, or None (also when the PID was reused)."""
    return running(started.pid, started.since_boot)


def stop(started: Started, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the process group of `started`, then SIGKILL what is left after `grace`."""
    proc = find(started)
    if proc is None:
        return
    group = [proc, *proc.children(recursive=True)]
    _signal_group(started.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(group, timeout=grace)
    if alive:
        _signal_group(started.pid, signal.SIGKILL)
        for leftover in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()
        psutil.wait_procs(alive, timeout=grace)
    _reap(started.pid)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our own child (tests start stacks in-process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def last_line(log: Path) -> str:
    """The last non-empty line of a log file, for error messages."""
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][-300:] if lines else ""
