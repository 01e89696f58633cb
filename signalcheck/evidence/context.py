"""Everything a check needs: the config, the run ledger's entries and the backends."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from signalcheck.config import Config
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.outcome import Outcome
from signalcheck.ledger import ACTOR_KINDS, Entry

REACHED_SERVICE = frozenset({None, "http_status", "assertion", "invalid_json"})
"""Probe error classes whose request still reached the service (so it left telemetry)."""


ONE_RUN_HINT = (
    " (signalcheck probe, load and chaos run each start a run of their own: give the later "
    "ones --ledger <the first one's ledger.jsonl> to judge them as one)"
)


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

    def actor_entries(self) -> list[Entry]:
        """What the actors did (probe, load, fault entries); empty for a dry or empty run."""
        return [e for e in self.entries if e.kind in ACTOR_KINDS]

    def planned(self, actor: str, action: str | None = None) -> list[Entry]:
        """`planned` entries of `actor` (and fault `action`): what the run meant to do."""
        return [
            e
            for e in self.entries
            if e.kind == "planned"
            and e.field("actor") == actor
            and (action is None or e.field("action") == action)
        ]

    def without_evidence(self, what: str, *, conditional: bool, planned: list[Entry]) -> Outcome:
        """The outcome when the ledger holds no `what` to judge: a failure, unless nothing of
        the kind was planned and the expectation is conditional (then a skip that says so)."""
        if planned:
            plans = ", ".join(sorted({_plan_text(e) for e in planned}))
            return Outcome.nothing_to_judge(f"{what} was planned ({plans}) but never happened")
        if conditional:
            return Outcome.not_planned(f"conditional: this run planned no {what}")
        return Outcome.nothing_to_judge(f"no {what} in this run{ONE_RUN_HINT}")

    def faults(self, action: str | None = None) -> list[Entry]:
        """Fault entries, the latest entry per (action, region, start)."""
        return latest_faults(self.entries, action)

    def probed_faults(self, action: str) -> list[Entry]:
        """The `action` faults during which a probe of the faulted region ran (started)."""
        return [
            fault
            for fault in self.faults(action)
            if any(
                e.kind == "probe"
                and e.field("region") == fault.field("region")
                and fault.field("start") <= e.field("start")
                and (fault.field("end") is None or e.field("start") <= fault.field("end"))
                for e in self.entries
            )
        ]

    def declared_alerts(self, fault: Entry) -> set[str]:
        """The alerts the experiment that planned `fault` declares it may cause in its region
        besides its alert expectations' (the `alerts` of its `planned` entries: a mark's)."""
        return {
            str(alert)
            for plan in self.planned("fault", fault.field("action"))
            if plan.field("region") == fault.field("region")
            and plan.field("experiment") == fault.field("experiment")
            for alert in plan.field("alerts") or []
        }

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

    def wait_for_due(self, budget: float, after: float | None = None) -> float:
        """Seconds still worth waiting for evidence due `budget` s after `after` (default: the
        window's end): up to `budget` right after it, none once that has passed (judging an
        old run, or a shadow after the exercise: look once)."""
        since = self.window()[1] if after is None else after
        return min(budget, max(0.0, since + budget - time.time()))

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
    latest: dict[tuple[object, object, object], Entry] = {}
    for e in entries:
        if e.kind == "fault" and (action is None or e.field("action") == action):
            latest[(e.field("action"), e.field("region"), e.field("start"))] = e
    return list(latest.values())


def no_probe_reached(check: str | None) -> str:
    """'no assignment-lifecycle probe reached the service in this run'."""
    return f"no {check + ' ' if check else ''}probe reached the service in this run"


def _plan_text(entry: Entry) -> str:
    parts = [entry.field("action"), entry.field("region"), entry.field("experiment")]
    return " ".join(str(p) for p in parts if p) or str(entry.field("actor"))
