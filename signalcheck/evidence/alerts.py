"""Alert expectations, judged from durable evidence so a late run still sees what happened:
Prometheus' `ALERTS` series (when an alert fired and stopped, with its labels) and the capture
receiver's stored notifications (which receiver Alertmanager delivered to). For each fault it
judges: firing and routing, then resolution; or, with `suppressed_by`, inhibition."""

from __future__ import annotations

import json
import time

from signalcheck.evidence.alert_check import AlertCheck
from signalcheck.evidence.alert_firing import judge_firing, judge_routing
from signalcheck.evidence.alert_inhibition import judge_inhibition
from signalcheck.evidence.alert_resolution import judge_resolution
from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.expectations import AlertExpectation
from signalcheck.ledger import Entry


def judged_faults(exp: AlertExpectation, ctx: Context) -> tuple[list[Entry], list[Entry], str]:
    """The faults `exp` judges, the planned ones it must see injected, and what they are."""
    faults = ctx.faults(exp.fault)
    planned = ctx.planned("fault", exp.fault)
    what = f"{exp.fault} fault"
    if exp.needs_probes:
        faults = ctx.probed_faults(exp.fault)
        # a fault with no probe pass planned after it is not a probe alert's to miss
        planned = [p for p in planned if p.field("probed")]
        what += " with a probe run of its region during it"
    if exp.experiment is not None:
        faults = [f for f in faults if exp.judges(f.field("experiment"))]
        planned = [p for p in planned if exp.judges(p.field("experiment"))]
        what += f" of an experiment titled {exp.experiment!r}"
    return faults, planned, what


def check_alert(exp: AlertExpectation, ctx: Context) -> Outcome:
    faults, planned, what = judged_faults(exp, ctx)
    if not faults:
        return ctx.without_evidence(what, conditional=exp.conditional, planned=planned)
    injected = {f.field("region") for f in faults}
    never = sorted({str(p.field("region")) for p in planned} - {str(r) for r in injected})
    began = time.monotonic()
    checks = [AlertCheck(exp, ctx, fault) for fault in faults]
    for check in checks:
        if exp.suppressed_by:
            judge_inhibition(check)
            continue
        judge_firing(check)
        if not check.problems:
            if exp.receiver:
                judge_routing(check)
            judge_resolution(check)
    problems = [p for c in checks for p in c.problems]
    if never:
        problems.append(f"the {exp.fault} fault planned for {', '.join(never)} was never injected")
    times = {k: v for c in checks for k, v in c.times.items()}
    return Outcome(
        passed=not problems,
        summary="; ".join(problems)
        or f"{exp.alert} behaved for {len(faults)} fault(s): {json.dumps(times)}",
        query="; ".join(dict.fromkeys(q for c in checks for q in c.queries)),
        observed=json.dumps([c.observed for c in checks], default=str),
        waited=time.monotonic() - began,
        time_to_appear=times.get("time_to_fire"),
    )
