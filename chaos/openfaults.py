"""The stack's list of faults in force (`open-faults.json` in the stack's data dir).

A fault is added before it is applied and removed once restored, by whichever process does
either, so a fault outlives neither its run nor a run that died: a fault whose injecting
process is gone is an orphan, which the next command restores. Every change rewrites the file
atomically under its own lock (`open-faults.lock`; the kernel releases it if the holder dies).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from pydantic import BaseModel, TypeAdapter

from signalcheck import processes
from signalcheck.errors import StackError

OPEN_FAULTS_FILE = "open-faults.json"
LOCK_FILE = "open-faults.lock"


class OpenFault(BaseModel):
    """One fault in force: where its ledger is, what it did, and who did it."""

    run_dir: Path
    action: str
    region: str
    params: dict[str, Any]
    start: float
    pid: int
    since_boot: float
    """Of the process that injected the fault (its PID and start, `processes.since_boot`): the
    fault is an orphan once that process is gone."""

    @property
    def key(self) -> tuple[str, str, str, float]:
        return (str(self.run_dir), self.action, self.region, self.start)

    def orphaned(self) -> bool:
        """True when the process that injected the fault no longer runs (also: PID reused)."""
        return processes.running(self.pid, self.since_boot) is None

    def describe(self) -> str:
        return f"{self.action} fault in {self.region} (run {self.run_dir})"


_adapter = TypeAdapter(list[OpenFault])


class OpenFaults:
    """The open-faults file of the stack whose data dir is `data_dir`."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / OPEN_FAULTS_FILE
        self._lock = data_dir / LOCK_FILE

    def add(
        self, run_dir: Path, action: str, region: str, params: dict[str, Any], start: float
    ) -> None:
        """Record a fault this process is about to apply."""
        me = psutil.Process(os.getpid())
        fault = OpenFault(
            run_dir=run_dir.resolve(),
            action=action,
            region=region,
            params=params,
            start=start,
            pid=me.pid,
            since_boot=processes.since_boot(me),
        )
        self._update(lambda faults: [*faults, fault])

    def remove(self, run_dir: Path, faults: list[tuple[str, str, float]]) -> None:
        """Forget the faults (action, region, start) of the run in `run_dir`: restored."""
        gone = {(str(run_dir.resolve()), *fault) for fault in faults}
        if gone:
            self._update(lambda current: [f for f in current if f.key not in gone])

    def all(self) -> list[OpenFault]:
        if not self.path.exists():
            return []
        with self._locked():
            return self._read()

    def _update(self, change: Callable[[list[OpenFault]], list[OpenFault]]) -> None:
        with self._locked():
            faults = change(self._read())
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(_adapter.dump_json(faults, indent=2))
            tmp.replace(self.path)

    def _read(self) -> list[OpenFault]:
        try:
            return _adapter.validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise StackError(f"{self.path}: unreadable list of open faults ({exc})") from exc

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._lock.parent.mkdir(parents=True, exist_ok=True)
        with self._lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
