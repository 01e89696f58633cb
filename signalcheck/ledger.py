"""The run ledger: what every actor did, one JSON object per line, append-only.

Probes, load, chaos and the game day write here; validators read it to know which
evidence to look for. Several processes may append to one ledger at once: each
entry is written with a single `write` on an `O_APPEND` descriptor under an
exclusive `flock`, so lines never interleave or tear.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

LEDGER_FILE = "ledger.jsonl"
ACTOR_KINDS = frozenset({"probe", "load", "fault"})
"""Entry kinds written by an actor that touched the system (a dry run writes none)."""


class Entry(BaseModel):
    """One thing an actor did; `kind` says what, the extra fields say the rest."""

    model_config = ConfigDict(extra="allow", frozen=True)

    ts: float
    kind: str

    def field(self, name: str, default: Any = None) -> Any:
        return (self.model_extra or {}).get(name, default)


class LedgerError(Exception):
    """A ledger that cannot be read; the message names the file and the line."""


class Ledger:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    def append(self, kind: str, **fields: Any) -> Entry:
        """Append one entry stamped with the current time and return it."""
        entry = Entry(ts=fields.pop("ts", None) or time.time(), kind=kind, **fields)
        line = (json.dumps(entry.model_dump(mode="json"), separators=(",", ":")) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
        finally:
            os.close(fd)
        return entry

    def entries(self, kind: str | None = None) -> list[Entry]:
        return [e for e in read_entries(self.path) if kind is None or e.kind == kind]


def read_entries(path: Path | str) -> Iterator[Entry]:
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read ledger ({exc.strerror})") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield Entry.model_validate_json(line)
            except ValueError as exc:
                raise LedgerError(f"{path}:{number}: not a ledger entry: {exc}") from exc


def new_run_dir(runs_dir: Path | str) -> Path:
    """Create runs/<UTC timestamp>/ (unique even when two runs start in one second)."""
    runs_dir = Path(runs_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for suffix in ["", *(f"-{n}" for n in range(1, 1000))]:
        candidate = runs_dir / f"{stamp}{suffix}"
        try:
            candidate.mkdir(parents=True)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{runs_dir}: too many runs started in one second")


def newest_ledger(runs_dir: Path | str) -> Path:
    """The ledger of the most recently started run under `runs_dir`: by the time its first
    entry records (folder names are only a tie-break, and a ledger with no readable first
    entry comes first)."""
    ledgers = list(Path(runs_dir).glob(f"*/{LEDGER_FILE}"))
    if not ledgers:
        raise LedgerError(f"{runs_dir}: no run ledger found (expected */{LEDGER_FILE})")
    return max(ledgers, key=lambda p: (_started(p), p.parent.name))


def _started(path: Path) -> float:
    """The `ts` of a ledger's first entry; -inf when it has none or it cannot be read."""
    try:
        with path.open("rb") as handle:
            first = handle.readline()
        return Entry.model_validate_json(first).ts
    except (OSError, ValueError):
        return float("-inf")
