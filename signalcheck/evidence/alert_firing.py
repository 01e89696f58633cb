"""Whether an alert fired for its fault's region, in time, with its labels and for no region
without a cause, and reached the receiver its route names."""

from __future__ import annotations

import time

from signalcheck.evidence.alert_check import AlertCheck, wait_until
from signalcheck.evidence.alert_series import PRIOR, AlertSeries
from signalcheck.evidence.fault_causes import FaultCauses
from signalcheck.evidence.polling import Look, poll

SPREAD_WINDOW = 15.0
"""An alert of another region that started firing between the fault and this many seconds
after the faulted region's counts as caused by the fault (a later one has another cause)."""


def judge_firing(check: AlertCheck) -> None:
    """The alert started firing for the fault's region after the fault and within `budget`,
    with the expected labels, and in no other region without a fault that may cause it."""
    exp = check.exp

    def observe() -> Look:
        end = min(time.time(), check.start + exp.budget)
        series = check.series(exp.alert, check.start - PRIOR, end)
        mine = [s for s in series if check.region_of(s["metric"]) == check.region]
        return Look(done=bool(mine), observed=series, details={"mine": mine})

    polled = poll(observe, wait_until(check.start + exp.budget))
    check.queries.append(check.prometheus.last_request)
    series: list[AlertSeries] = polled.look.observed
    mine: list[AlertSeries] = polled.look.details["mine"]
    check.observed["firing"] = [{**s["metric"], "first": s["first"]} for s in series]
    action = check.fault.field("action")
    if not mine:
        check.problems.append(
            f"{exp.alert} did not fire for {check.region} within {exp.budget:g}s of the "
            f"{action} fault at {check.start:.3f}"
        )
        return
    if any(s["first"] < check.start for s in mine):
        check.problems.append(
            f"{exp.alert} for {check.region} was already firing when the {action} fault "
            f"started at {check.start:.3f}: it cannot count as this fault's detection"
        )
        return
    check.times["time_to_fire"] = max(0.0, mine[0]["first"] - check.start)
    check.labels_match([s["metric"] for s in mine], "alert")
    causes = FaultCauses(check.ctx)
    spread_until = mine[0]["first"] + SPREAD_WINDOW
    others = sorted(
        {
            str(check.region_of(s["metric"]))
            for s in series
            if check.start <= s["first"] <= spread_until  # not firing already
            and check.region_of(s["metric"]) != check.region
            and causes.cause(exp.alert, check.region_of(s["metric"]), s["first"]) is None
        }
    )
    if others:
        check.problems.append(
            f"{exp.alert} also fired for region(s) {others}, where the ledger had no fault "
            "that may cause it"
        )


def judge_routing(check: AlertCheck) -> None:
    """The alert's firing notifications for the region reached `receiver`, and it alone,
    with the expected labels."""
    exp = check.exp
    deadline = check.start + exp.budget + check.grace
    notes = check.await_notifications(exp.alert, "firing", check.start, deadline)
    receivers = sorted({n["receiver"] for n in notes})
    check.observed["notifications"] = [(n["receiver"], n["labels"]) for n in notes]
    if receivers != [exp.receiver]:
        got = f"receiver(s) {receivers}" if receivers else "no receiver"
        check.problems.append(
            f"{exp.alert} for {check.region} reached {got}, expected {exp.receiver!r}: "
            f"check the Alertmanager route matching {dict(exp.labels)}"
        )
    else:
        check.times["time_to_notify"] = notes[0]["received_at"] - check.start
        check.labels_match([n["labels"] for n in notes], "notification")
