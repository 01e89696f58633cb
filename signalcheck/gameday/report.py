"""The game day's ledger and validation outcomes -> the report's typed data."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from signalcheck.config import Config
from signalcheck.evidence.context import latest_faults
from signalcheck.gameday.plan import GamedayPlan, experiment_label
from signalcheck.ledger import Entry, Ledger
from signalcheck.report import (
    AlertSpan,
    Detection,
    ExpectationOutcome,
    FaultSpan,
    GamedayReport,
    LatencyPoint,
    Phase,
    Sent,
    VitalSummary,
)


def build_report(
    config: Config,
    plan: GamedayPlan,
    ledger: Ledger,
    outcomes: list[ExpectationOutcome],
    started: float,
    vitals: list[VitalSummary] | None = None,
    problems: list[str] | None = None,
) -> GamedayReport:
    entries = ledger.entries()
    detections = detections_of(entries)
    return GamedayReport(
        title=f"signalcheck game day ({plan.name})",
        started=started,
        ended=time.time(),
        phases=[
            Phase(name=e.field("name"), start=e.field("start"), end=e.field("end"))
            for e in entries
            if e.kind == "phase"
        ],
        faults=[
            FaultSpan(
                action=f.field("action"),
                region=f.field("region"),
                start=f.field("start"),
                end=f.field("end"),
            )
            for f in latest_faults(entries)
        ],
        alerts=[
            AlertSpan(
                alert=d.alert, region=d.region, firing_at=d.detected_at, resolved_at=d.resolved_at
            )
            for d in detections
            if d.detected_at is not None
        ],
        latencies=[
            LatencyPoint(
                region=e.field("region"),
                ts=e.field("start"),
                seconds=e.field("end") - e.field("start"),
            )
            for e in entries
            if e.kind == "probe" and e.field("end") is not None
        ],
        expectations=outcomes,
        detections=detections,
        vitals=vitals or [],
        sent=sent_by_phase(plan, entries),
        problems=problems or [],
    )


def sent_by_phase(plan: GamedayPlan, entries: list[Entry]) -> list[Sent]:
    """What each phase sent to which regions, from the ledger: the probe passes (per region,
    each check and how often), the load (its profile, shape and users, the user's own
    locustfile or the shipped ones), the experiments and, per region, the background traffic
    of the chaos phase (the demo's token requests, the checks sent, or none and why)."""
    rows: list[Sent] = []
    for phase in (e for e in entries if e.kind == "phase"):
        start, end = phase.field("start"), phase.field("end")
        checks: dict[str, Counter[str]] = {}
        for probe in (e for e in entries if e.kind == "probe"):
            if start <= probe.field("start") <= end:
                checks.setdefault(probe.field("region"), Counter())[probe.field("check")] += 1
        for region, counted in sorted(checks.items()):
            runs = ", ".join(f"{check} {n}x" for check, n in sorted(counted.items()))
            rows.append(Sent(phase=phase.field("name"), region=region, what=f"probes: {runs}"))
    for load in (e for e in entries if e.kind == "load"):
        rows.append(
            Sent(
                phase=f"load: {load.field('profile')}",
                region=load.field("region"),
                what=_load(load),
            )
        )
    if "chaos" in plan.phases and plan.experiments:
        for lane in plan.lanes:
            names = ", ".join(experiment_label(name) for name in lane.experiments)
            rows.append(
                Sent(phase="chaos", region=lane.region or "*", what=f"experiments: {names}")
            )
    for traffic in (e for e in entries if e.kind == "traffic"):
        for region, sent in traffic.field("regions").items():
            rows.append(Sent(phase="chaos", region=region, what=_traffic(sent)))
    return rows


def _load(load: Entry) -> str:
    if load.field("locustfile"):
        classes = ", ".join(load.field("user_classes"))
        users = f"your locustfile {Path(load.field('locustfile')).name} ({classes})"
    else:
        mix = ", ".join(f"{kind} {w}" for kind, w in load.field("user_mix", {}).items() if w)
        users = f"signalcheck's shipped users ({mix})"
    service = _outcomes(load.field("requests"))
    return (
        f"load profile {load.field('profile')}, shape {load.field('shape')}: {users}; "
        f"{load.field('total_requests')} requests, to the region: {service}"
    )


def _traffic(sent: dict[str, Any]) -> str:
    outcomes = _outcomes(sent["requests"])
    if sent["sends"] == "demo-token":
        return f"background traffic: the demo's token requests: {outcomes}"
    if sent["sends"] == "checks":
        return f"background traffic: the requests of checks {', '.join(sent['checks'])}: {outcomes}"
    return f"no background traffic ({sent['why']})"


def _outcomes(requests: dict[str, dict[str, int]]) -> str:
    """{name: {status class: n}} as "N (2xx n, 5xx n)"."""
    total: Counter[str] = Counter()
    for by_outcome in requests.values():
        total.update(by_outcome)
    classes = ", ".join(f"{key} {n}" for key, n in sorted(total.items()))
    return f"{sum(total.values())}" + (f" ({classes})" if classes else "")


def detections_of(entries: list[Entry]) -> list[Detection]:
    """One row per `detection` entry, joined with its `recovery` entry.

    The floor is what the configuration implies: scrape + evaluation interval + the rule's
    `for` + Alertmanager's group_wait (the chaos probes record it as `bound_seconds`).
    """
    recoveries: dict[tuple[Any, ...], Entry] = {
        _key(e): e for e in entries if e.kind == "recovery" and e.field("fault_start")
    }
    rows = []
    for entry in entries:
        if entry.kind != "detection":
            continue
        recovery = recoveries.get(_key(entry))
        rows.append(
            Detection(
                experiment=entry.field("experiment") or "",
                alert=entry.field("alert"),
                region=entry.field("region") or "",
                fault_start=entry.field("fault_start"),
                floor_seconds=entry.field("bound_seconds") or 0.0,
                detected_at=entry.field("detected_at"),
                cleared_at=recovery.field("cleared_at") if recovery else None,
                resolved_at=_resolved_at(recovery),
            )
        )
    return rows


def _key(entry: Entry) -> tuple[Any, ...]:
    return entry.field("alert"), entry.field("region"), entry.field("fault_start")


def _resolved_at(recovery: Entry | None) -> float | None:
    if recovery is None:
        return None
    return recovery.field("notified_at") or recovery.field("resolved_at")
