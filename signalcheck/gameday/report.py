"""The game day's ledger and validation outcomes -> the report's typed data."""

from __future__ import annotations

import time
from typing import Any

from signalcheck.config import Config
from signalcheck.evidence.context import latest_faults
from signalcheck.gameday.plan import GamedayPlan
from signalcheck.ledger import Entry, Ledger
from signalcheck.report import (
    AlertSpan,
    Detection,
    ExpectationOutcome,
    FaultSpan,
    GamedayReport,
    LatencyPoint,
    Phase,
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
        problems=problems or [],
    )


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
