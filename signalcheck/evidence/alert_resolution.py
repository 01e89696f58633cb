"""Whether an alert stopped firing within `resolve_budget` of its fault's restore, and its
resolved notification reached the receiver."""

from __future__ import annotations

import time

from signalcheck.evidence.alert_check import AlertCheck, wait_until
from signalcheck.evidence.alert_series import left_state
from signalcheck.evidence.polling import Look, poll


def judge_resolution(check: AlertCheck) -> None:
    """The alert left the firing state for the region within `resolve_budget` of the restore
    (or before the next fault there began), and notified `receiver` it resolved."""
    exp = check.exp
    end: float | None = check.fault.field("end")
    if end is None:
        check.problems.append(
            f"the {check.fault.field('action')} fault in {check.region} was never restored "
            "(the ledger has no end for it): its alert's resolution cannot be judged"
        )
        return
    if exp.resolve_budget is None:
        return  # restored; the alert is meant to outlast the fault
    budget_end = end + exp.resolve_budget

    # The next fault in the region ends the window: what fires after it is its own.
    later = [
        f.field("start")
        for f in check.ctx.faults()
        if f.field("region") == check.region and f.field("start") > end
    ]
    horizon = min([budget_end, *later])

    def observe() -> Look:
        now = min(time.time(), horizon)
        series = [
            s
            for s in check.series(exp.alert, end, now)
            if check.region_of(s["metric"]) == check.region
        ]
        last = max((s["last"] for s in series), default=end)
        return Look(done=left_state(last, now, check.interval(exp.alert)), observed=last)

    polled = poll(observe, wait_until(horizon))
    check.queries.append(check.prometheus.last_request)
    if not polled.look.done:
        check.problems.append(
            f"{exp.alert} for {check.region} still firing {horizon - end:.0f}s after the "
            f"restore at {end:.3f}"
            + (" (when the next fault there began)" if horizon < budget_end else "")
        )
        return
    last_firing: float = polled.look.observed
    check.times["time_to_resolve"] = max(0.0, last_firing - end)
    if exp.receiver:
        deadline = budget_end + check.grace
        notes = check.await_notifications(exp.alert, "resolved", end, deadline)
        if exp.receiver not in {n["receiver"] for n in notes}:
            check.problems.append(
                f"no resolved notification of {exp.alert} for {check.region} reached "
                f"{exp.receiver!r}"
            )
