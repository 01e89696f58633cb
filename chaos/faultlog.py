"""The run ledger's `fault` entries: opened at injection, rewritten with `end` at restore (or,
for a marked action whose injection failed, at once with its `error`); and the `planned`
fault entries written before the method, which they must match.

A fault is identified by (action, region, start); its latest entry holds its `end`
(null while the fault is active).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from signalcheck.ledger import Entry, Ledger

ADMIN_ACTIONS = ("latency", "errors", "not_ready", "dependency_down")
KILL = "kill"
PROBES_PAUSED = "probes_paused"
"""The harness's own probes of a region stopped (as a probe CronJob suspended): its results
age in the Pushgateway until the probes resume."""
INJECTIONS = {
    "inject_latency": "latency",
    "inject_errors": "errors",
    "inject_not_ready": "not_ready",
    "inject_dependency_outage": "dependency_down",
    "kill_region": KILL,
    "pause_probes": PROBES_PAUSED,
}
"""`signalcheck.chaos.actions` function -> the fault action it opens in the ledger."""


def plan_fault(
    ledger: Ledger,
    action: str,
    region: str,
    experiment: str,
    probed: bool = False,
    alerts: list[str] | None = None,
) -> Entry:
    """Record, before the method runs, a fault the experiment means to inject (`probed`: with
    a probe pass of its region after the injection; `alerts`: those its mark declares it may
    cause besides its alert expectations')."""
    return ledger.append(
        "planned",
        actor="fault",
        action=action,
        region=region,
        experiment=experiment,
        probed=probed,
        alerts=alerts or [],
    )


def open_fault(
    ledger: Ledger,
    action: str,
    region: str,
    params: dict[str, Any],
    start: float | None = None,
    experiment: str = "",
) -> Entry:
    """Record a fault (started `start`, default now) before it is applied, with the title of
    the experiment injecting it."""
    return ledger.append(
        "fault",
        action=action,
        region=region,
        start=start or time.time(),
        end=None,
        params=params,
        experiment=experiment,
    )


def close_faults(ledger: Ledger, region: str, actions: tuple[str, ...]) -> list[Entry]:
    """Rewrite every open fault of `region` with one of `actions` with its end, now."""
    return close(
        ledger,
        [
            fault
            for fault in open_faults(ledger)
            if fault.field("region") == region and fault.field("action") in actions
        ],
    )


def close(ledger: Ledger, faults: list[Entry], **fields: Any) -> list[Entry]:
    """Rewrite each of `faults` with its end, now (and `fields`, e.g. the injection's error)."""
    end = time.time()
    return [
        ledger.append("fault", **{**fault.model_dump(exclude={"ts", "kind"}), "end": end, **fields})
        for fault in faults
    ]


def injected_by(fault: Entry) -> str | None:
    """The name of the marked action that injected `fault`; None for a fault of
    `signalcheck.chaos.actions` (which signalcheck itself knows how to undo)."""
    return (fault.field("params") or {}).get("activity")


def faults(ledger: Ledger) -> list[Entry]:
    """The latest entry of every fault, in order of injection."""
    if not ledger.path.exists():
        return []
    latest: dict[tuple[Any, Any, Any], Entry] = {}
    for entry in ledger.entries("fault"):
        latest[(entry.field("action"), entry.field("region"), entry.field("start"))] = entry
    return sorted(latest.values(), key=lambda e: e.field("start"))


def open_faults(ledger: Ledger) -> list[Entry]:
    return [fault for fault in faults(ledger) if fault.field("end") is None]


def paused_regions(ledger: Ledger) -> set[str]:
    """The regions whose probes an open `probes_paused` fault holds."""
    return {f.field("region") for f in open_faults(ledger) if f.field("action") == PROBES_PAUSED}


def last_fault(ledger: Ledger, region: str | None, action: str | None = None) -> Entry | None:
    """The most recently injected fault of `region` (of any region when None), of `action`
    (of any when None)."""
    matching = [
        f
        for f in faults(ledger)
        if (region is None or f.field("region") == region)
        and (action is None or f.field("action") == action)
    ]
    return matching[-1] if matching else None


def unmet_plans(ledger: Ledger) -> list[str]:
    """What one chaos run's ledger says went wrong with its faults: a planned fault that was
    never injected, a fault that was never restored. Empty when the ledger does not exist."""
    if not ledger.path.exists():
        return []
    injected = Counter((f.field("action"), f.field("region")) for f in faults(ledger))
    problems = []
    for plan in ledger.entries("planned"):
        if plan.field("actor") != "fault":
            continue
        key = (plan.field("action"), plan.field("region"))
        if injected[key]:
            injected[key] -= 1
        else:
            problems.append(
                f"planned {key[0]} fault in {key[1]} ({plan.field('experiment')}) "
                "was never injected"
            )
    problems += [
        f"{f.field('action')} fault in {f.field('region')} ({injected_by(f)}) failed: "
        f"{f.field('error')}"
        for f in faults(ledger)
        if f.field("error")
    ]
    problems += [
        f"{f.field('action')} fault in {f.field('region')} was never restored{_by_whom(f)}"
        for f in open_faults(ledger)
    ]
    return problems


def _by_whom(fault: Entry) -> str:
    activity = injected_by(fault)
    if activity is None:
        return ""
    return f" (injected by {activity!r}, which signalcheck cannot undo: undo it yourself)"
