"""The run a validation judges: its ledger, read and checked for something to judge.

Shared by the pytest plugin (exit 2 from the session) and `signalcheck validate` (one line
and exit 2 before pytest starts).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from signalcheck.config import Config
from signalcheck.errors import ConfigError, LedgerError
from signalcheck.evidence import verifications_for
from signalcheck.ledger import ACTOR_KINDS, Entry, Ledger, LedgerWarning, newest_ledger


@dataclass(frozen=True)
class Run:
    entries: list[Entry]
    skipped: list[str]
    """One line per torn last line the ledger skipped, to name at the end of the run."""


def ledger_path(config: Config, given: Path | str | None) -> Path:
    """The ledger given, else the newest under the config's runs_dir."""
    try:
        return Path(given) if given else newest_ledger(config.runs_dir)
    except LedgerError as exc:
        raise LedgerError(f"{exc}; run the probes first or pass --ledger PATH") from exc


def read_run(config: Config, path: Path) -> Run:
    """The ledger's entries; a LedgerError when it cannot be read or no actor touched the
    system in its run, a ConfigError when the config expects nothing: nothing to judge."""
    with warnings.catch_warnings(record=True) as skipped:
        warnings.simplefilter("always", LedgerWarning)
        entries = Ledger(path).entries()
    if not any(e.kind in ACTOR_KINDS for e in entries):
        raise LedgerError(
            f"{path}: no actor touched the system in this run (no "
            f"{', '.join(sorted(ACTOR_KINDS))} entry): run the probes (or load, or a chaos "
            "experiment that is not --dry) first"
        )
    if not verifications_for(config.expectations):
        raise ConfigError(f"{config.source}: expectations: none configured")
    return Run(entries, [f"signalcheck: warning: {w.message}" for w in skipped])
