"""Which alerts each of the ledger's faults may cause, and until when: what tells an alert the
exercise caused from a stray one."""

from __future__ import annotations

import math
import time

from signalcheck.evidence.context import Context
from signalcheck.ledger import Entry

DECLARED_SETTLE = 120.0
"""Seconds after its fault's restore an alert its experiment declares may still start, when
no alert expectation judges that fault (the default `resolve_budget`)."""


class FaultCauses:
    """Which alerts each of the ledger's faults may cause in its region, and until when: the
    alerts (and inhibiting alerts) of the alert expectations judging it (its action, its
    experiment's title), from its start until their `resolve_budget` after its restore (for
    ever while it is open, or when the budget is null: an alert meant to outlast it), and the
    alerts its experiment declares (a mark's `alerts`) until the longest of those budgets."""

    def __init__(self, ctx: Context):
        self.faults = sorted(ctx.faults(), key=lambda f: f.field("start"))
        self.causes = [_causes(ctx, fault) for fault in self.faults]

    def cause(self, alert: str, region: str | None, at: float) -> Entry | None:
        """The fault of `region` that may cause `alert` to start at `at`, None when none may."""
        for fault, causes in zip(self.faults, self.causes, strict=True):
            if (
                fault.field("region") == region
                and alert in causes
                and fault.field("start") <= at <= _until(fault, causes[alert])
            ):
                return fault
        return None

    def stray(self, alert: str, region: str | None, first: float, last: float) -> str:
        """Why `alert`, active in `region` from `first` to `last`, was caused by no fault: the
        faults of the region it overlapped, or that none had begun there yet."""
        if region is None:
            return "without a region label: no fault can have caused it"
        began = [f.field("start") for f in self.faults if f.field("region") == region]
        if not began:
            return f"and this run had no fault in {region}"
        if first < min(began):
            return f"before any fault in {region}"
        overlapped = [
            fault
            for fault, causes in zip(self.faults, self.causes, strict=True)
            if fault.field("region") == region
            and fault.field("start") <= last
            and first <= _until(fault, max(causes.values(), default=0.0))
        ]
        if overlapped:
            during = ", ".join(f"the {_describe_fault(f)}" for f in overlapped)
            return f"during {during}: not an alert that fault may cause"
        return f"outside every fault in {region} and the time its alerts had to resolve"


def _causes(ctx: Context, fault: Entry) -> dict[str, float]:
    """Alert -> seconds after `fault`'s restore it may still start (inf: any time)."""
    causes: dict[str, float] = {}
    for exp in ctx.config.expectations.alerts:
        if exp.fault != fault.field("action") or not exp.judges(fault.field("experiment")):
            continue
        budget = math.inf if exp.resolve_budget is None else exp.resolve_budget
        for alert in filter(None, (exp.alert, exp.suppressed_by)):
            causes[alert] = max(causes.get(alert, 0.0), budget)
    settle = max(causes.values(), default=DECLARED_SETTLE)
    for alert in ctx.declared_alerts(fault):
        causes.setdefault(alert, settle)
    return causes


def _until(fault: Entry, settle: float) -> float:
    end = fault.field("end")
    return math.inf if end is None else float(end) + settle


def _describe_fault(fault: Entry) -> str:
    """'latency fault 12:00:01..12:01:10' (local time; '..open' while not restored)."""
    end = fault.field("end")
    return (
        f"{fault.field('action')} fault {clock(fault.field('start'))}.."
        f"{'open' if end is None else clock(end)}"
    )


def clock(at: float) -> str:
    """'12:00:01': the local time of day of a unix time."""
    return time.strftime("%H:%M:%S", time.localtime(at))
