"""Everything a check needs: the config, the run ledger's entries and the backends."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from signalcheck.config import Config
from signalcheck.evidence.backends import BackendSet
from signalcheck.ledger import Entry

REACHED_SERVICE = frozenset({None, "http_status", "assertion", "invalid_json"})
"""Probe error classes whose request still reached the service (so it left telemetry)."""


@dataclass
class Context:
    config: Config
    entries: list[Entry]
    backends: BackendSet
    span_counts: dict[str, tuple[int, float]] = field(default_factory=dict)
    """trace id -> (span count, monotonic time it was first seen), shared by all checks of
    a run so that a trace already seen stable is not waited for again."""

    def probes(self, check: str | None = None) -> list[Entry]:
        """Probe entries with a trace id whose request reached the service."""
        return [
            e
            for e in self.entries
            if e.kind == "probe"
            and e.field("trace_id")
            and (check is None or e.field("check") == check)
            and (e.field("outcome") == "success" or e.field("error_class") in REACHED_SERVICE)
        ]

    def faults(self, action: str | None = None) -> list[Entry]:
        """Fault entries, the latest entry per (action, region, start)."""
        return latest_faults(self.entries, action)

    def fault_active(self, region: str | None, at: float) -> bool:
        """Whether the ledger says a fault was active in `region` at time `at`."""
        for fault in self.faults():
            end = fault.field("end")
            if (
                fault.field("region") in (None, region)
                and fault.field("start") <= at
                and (end is None or at <= end)
            ):
                return True
        return False

    def window(self) -> tuple[float, float]:
        """From the ledger's first event to its last (entries' start/end or ts)."""
        times: list[float] = []
        for e in self.entries:
            times.append(e.ts)
            times.extend(t for t in (e.field("start"), e.field("end")) if t is not None)
        if not times:
            now = time.time()
            return now, now
        return min(times), max(times)


def latest_faults(entries: list[Entry], action: str | None = None) -> list[Entry]:
    """Fault entries, the latest per (action, region, start): a restore appends the entry
    again with its `end`, since the ledger is append-only."""
    latest: dict[tuple[Any, Any, Any], Entry] = {}
    for e in entries:
        if e.kind == "fault" and (action is None or e.field("action") == action):
            latest[(e.field("action"), e.field("region"), e.field("start"))] = e
    return list(latest.values())
