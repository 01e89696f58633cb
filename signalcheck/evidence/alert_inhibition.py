"""Whether an alert stayed silent, though firing, while the alert that should inhibit it
fired for its fault's region."""

from __future__ import annotations

import time

from signalcheck.evidence.alert_check import AlertCheck, wait_until
from signalcheck.evidence.alert_series import PRIOR, AlertSeries, left_state
from signalcheck.evidence.polling import Look, poll
from signalcheck.evidence.routing import renotify_interval


def judge_inhibition(check: AlertCheck) -> None:
    """`alert` was inhibited by `suppressed_by` during this fault: the inhibitor fired for
    the region after the fault started and notified; from its first notification until
    it stopped firing, `alert` kept firing in Prometheus yet reached no receiver (neither
    firing nor resolved), though it had reached `receiver` (any, without one) before."""
    exp = check.exp
    window = _inhibitor_window(check)
    if window is None:
        return
    on, off = window
    renotify = renotify_interval(check.ctx)
    if off - on < renotify:
        check.problems.append(
            f"{exp.suppressed_by} for {check.region} fired for {off - on:.1f}s after "
            f"notifying, less than Alertmanager takes to re-notify a firing alert "
            f"({renotify:g}s: repeat_interval + group_interval): a leak of {exp.alert} "
            "could not have shown; hold the fault longer or shorten the repeat interval"
        )
        return
    series = [
        s
        for s in check.series(exp.alert, check.ctx.window()[0], off)
        if check.region_of(s["metric"]) == check.region
    ]
    check.queries.append(check.prometheus.last_request)
    interval = check.interval(exp.alert)
    through = [s for s in series if s["first"] <= on and not left_state(s["last"], off, interval)]
    check.observed["inhibited_firing"] = [
        {**s["metric"], "first": s["first"], "last": s["last"]} for s in series
    ]
    if not through:
        check.problems.append(
            f"{exp.alert} for {check.region} was not firing throughout {exp.suppressed_by}'s "
            f"window ({on:.3f} to {off:.3f}): its silence then proves no inhibition"
        )
        return
    notes = sorted(
        check.notifications(exp.alert, "firing", through[0]["first"])
        + check.notifications(exp.alert, "resolved", through[0]["first"]),
        key=lambda n: n["received_at"],
    )
    check.queries.append(check.last_capture_request)
    before = [n for n in notes if n["status"] == "firing" and n["received_at"] < on]
    leaked = [n for n in notes if on <= n["received_at"] <= off]
    check.observed["notified_before"] = [(n["receiver"], n["received_at"]) for n in before]
    check.observed["leaked"] = [(n["receiver"], n["status"], n["received_at"]) for n in leaked]
    receivers = sorted({n["receiver"] for n in before})
    if not before or (exp.receiver and receivers != [exp.receiver]):
        got = f"receiver(s) {receivers}" if receivers else "no receiver"
        wanted = repr(exp.receiver) if exp.receiver else "a receiver"
        check.problems.append(
            f"{exp.alert} for {check.region} reached {got} before {exp.suppressed_by} fired, "
            f"expected {wanted}: without that, its silence cannot be told from inhibition"
        )
    if leaked:
        shown = ", ".join(
            f"{n['status']} to {n['receiver']!r} at +{n['received_at'] - on:.1f}s"
            for n in leaked[:5]
        )
        check.problems.append(
            f"{exp.alert} for {check.region} reached a receiver {len(leaked)} time(s) while "
            f"{exp.suppressed_by} fired ({off - on:.1f}s from its first notification at "
            f"{on:.3f}), though it should inhibit it: {shown}"
        )
    check.times["inhibited_for"] = off - on


def _inhibitor_window(check: AlertCheck) -> tuple[float, float] | None:
    """(first notification, last firing) of `suppressed_by` for the fault's region: it must
    start firing after the fault started, notify, and stop within `resolve_budget` of the
    restore. None, with the problem noted, when it does not."""
    exp = check.exp
    inhibitor = str(exp.suppressed_by)
    action = check.fault.field("action")
    end: float | None = check.fault.field("end")
    if end is None:
        check.problems.append(
            f"the {action} fault in {check.region} was never restored (the ledger has no end "
            f"for it): when {inhibitor} stopped inhibiting cannot be judged"
        )
        return None
    budget = exp.resolve_budget
    assert budget is not None, "AlertExpectation requires a resolve_budget with suppressed_by"
    settled = end + budget

    def observe() -> Look:
        now = min(time.time(), settled)
        mine = [
            s
            for s in check.series(inhibitor, check.start - PRIOR, now)
            if check.region_of(s["metric"]) == check.region
        ]
        last = max((s["last"] for s in mine), default=now)
        done = bool(mine) and left_state(last, now, check.interval(inhibitor))
        return Look(done=done, observed=mine)

    polled = poll(observe, wait_until(settled))
    check.queries.append(check.prometheus.last_request)
    mine: list[AlertSeries] = polled.look.observed
    if not mine or min(s["first"] for s in mine) > check.start + exp.budget:
        check.problems.append(
            f"{inhibitor} (the inhibiting alert) did not fire for {check.region} within "
            f"{exp.budget:g}s of the {action} fault at {check.start:.3f}"
        )
        return None
    first = min(s["first"] for s in mine)
    if first < check.start:
        check.problems.append(
            f"{inhibitor} for {check.region} was already firing when the {action} fault "
            f"started at {check.start:.3f}"
        )
        return None
    if not polled.look.done:
        check.problems.append(
            f"{inhibitor} for {check.region} still firing {budget:g}s after the "
            f"restore at {end:.3f}"
        )
        return None
    check.times["time_to_fire"] = first - check.start
    notes = check.await_notifications(
        inhibitor, "firing", check.start, check.start + exp.budget + check.grace
    )
    if not notes:
        check.problems.append(
            f"{inhibitor} (the inhibiting alert) for {check.region} never notified"
        )
        return None
    on: float = notes[0]["received_at"]
    check.times["time_to_notify"] = on - check.start
    return on, max(s["last"] for s in mine)
