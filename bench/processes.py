"""The processes a benchmark measures: started, awaited until ready, stopped by their PID,
and the CPU they used."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from signalcheck.waiting import wait_for

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def started(
    argv: list[str],
    ready_url: str,
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 15.0,
) -> Iterator[psutil.Process]:
    """Start `argv` (with `env` added to ours), wait until `ready_url` answers 200, stop it by
    PID afterwards. A server that exits before it is ready fails at once, naming its log."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, env={**os.environ, **(env or {})}, cwd=REPO, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(
            lambda: _answers(ready_url, proc, log),
            timeout=timeout,
            what=f"{argv[0]} at {ready_url} (log {log})",
        )
        yield psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _answers(url: str, proc: subprocess.Popen, log: Path) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}; see {log}")
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    """User and system CPU the processes used so far; one that has exited counts nothing."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total
