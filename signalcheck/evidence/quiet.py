"""The quiet expectation: no alert pending or firing during the run that no fault caused."""

from __future__ import annotations

import fnmatch
import json
import time

from signalcheck.evidence.alert_check import wait_until
from signalcheck.evidence.alert_series import (
    PRIOR,
    AlertSeries,
    evaluation_interval,
    firing_series,
)
from signalcheck.evidence.context import Context
from signalcheck.evidence.fault_causes import FaultCauses, clock
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import QuietExpectation


def check_quiet(exp: QuietExpectation, ctx: Context) -> Outcome:
    """No alert pending or firing from the ledger's first event until `budget` seconds after
    its last that no fault caused: in a region, an alert may start only while a fault there
    that may cause it (FaultCauses) is open or its alerts resolve; any other, before any
    fault included, is a stray named with the faults it overlapped. Waits out the budget (an
    alert still pending when the exercise ends shows up then), and fails at the first stray
    it sees. An alert already active before the window that ends before the first fault (or
    the window's end) is the state the run found, e.g. probes stale since the last run until
    this run's first probe pass; one that goes on past it counts. The alerts of `allow` and
    of the `heartbeats` expectations may fire anywhere."""
    prometheus = ctx.backends.prometheus()
    start, end = ctx.window()
    causes = FaultCauses(ctx)
    settled = min((f.field("start") for f in ctx.faults()), default=end)
    allowed = [*exp.allow, *(h.alert for h in ctx.config.expectations.heartbeats)]
    interval = evaluation_interval(prometheus, None)

    def caused(series: AlertSeries) -> bool:
        labels = series["metric"]
        name = labels.get("alertname", "")
        return (
            any(fnmatch.fnmatchcase(name, p) for p in allowed)
            or (series["first"] < start and series["last"] < settled)
            or causes.cause(name, labels.get(exp.region_label), series["first"]) is not None
        )

    def observe() -> Look:
        until = min(time.time(), end + exp.budget)
        series = firing_series(
            prometheus, None, start - PRIOR, until, interval, states="pending|firing"
        )
        unexpected = [s for s in series if not caused(s)]
        return Look(
            done=bool(unexpected) or until >= end + exp.budget,
            observed=series,
            details={"unexpected": unexpected, "until": until},
        )

    polled = poll(observe, wait_until(end + exp.budget), max_interval=2.0)
    unexpected: list[AlertSeries] = polled.look.details["unexpected"]
    until: float = polled.look.details["until"]
    seen: list[AlertSeries] = polled.look.observed
    names = []
    for s in unexpected:
        name, region = s["metric"].get("alertname", ""), s["metric"].get(exp.region_label)
        names.append(
            f"{name} ({region or 'no region'}) {s['metric'].get('alertstate')} from "
            f"{clock(s['first'])} ({s['first']:.0f}) "
            + causes.stray(name, region, s["first"], s["last"])
        )
    return Outcome(
        passed=not unexpected,
        summary=f"unexpected alert(s) in the window: {'; '.join(names)}"
        if unexpected
        else f"no unexpected alert pending or firing between {start:.0f} and {until:.0f}",
        query=prometheus.last_request,
        observed=json.dumps([s["metric"] for s in seen]),
        waited=polled.waited,
    )
