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
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from signalcheck.errors import LedgerError

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


class LedgerWarning(UserWarning):
    """A torn last line skipped: a writer stopped while writing it."""


class _BadLine(ValueError):
    """Why one line is not an entry, in one line."""


class _Unparsable(_BadLine):
    """A line that is not UTF-8 JSON at all: what a writer stopped mid-line leaves."""


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
    """The ledger's entries in order. A torn last line (no newline, not UTF-8 JSON: a writer
    stopped mid-line) is skipped with a `LedgerWarning` naming it; any other line that is not
    an entry raises a one-line `LedgerError` naming the file and the line."""
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read ledger ({exc.strerror})") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield _entry(raw)
            except _BadLine as exc:
                if raw.endswith(b"\n") or not isinstance(exc, _Unparsable):
                    raise LedgerError(f"{path}:{number}: {exc}") from None
                warnings.warn(
                    f"{path}:{number}: torn last line skipped (a writer stopped mid-line: {exc})",
                    LedgerWarning,
                    stacklevel=2,
                )


def _entry(raw: bytes) -> Entry:
    """One line as an entry, or `_BadLine`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unparsable(
            f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
        ) from None
    try:
        value = json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        raise _Unparsable(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _BadLine(f"not a ledger entry (a JSON {type(value).__name__}, not an object)")
    try:
        return Entry.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'entry'}: {error['msg']}"
            for error in exc.errors()
        )
        raise _BadLine(f"not a ledger entry ({problems})") from None


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
