"""Alert expectations, judged from durable evidence so a late run still sees what happened:
Prometheus' `ALERTS` series (when an alert fired and stopped, with its labels) and the capture
receiver's stored notifications (which receiver Alertmanager delivered to).

`ALERTS` is read as the raw samples the rules wrote (range vectors), never through a range
query's steps: a step looks back up to 5 minutes for a sample, so the last samples of a
Prometheus that stopped (nothing marks them stale) would read as an alert still pending or
firing long after it, e.g. from before a `down` and `up` into the next run. A sample stands
for its state until the next evaluation of its rule, no longer."""

from __future__ import annotations

import fnmatch
import json
import math
import time
from collections.abc import Iterator
from typing import Any

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.evidence.routing import notification_grace, renotify_interval
from signalcheck.expectations import AlertExpectation, QuietExpectation
from signalcheck.ledger import Entry

MAX_SAMPLES = 1000
"""Samples of one series one query reads at most (a rule writes one per evaluation, at least
a second apart): a longer window is read in chunks, within the backends' sample limits."""
SPREAD_WINDOW = 15.0
"""An alert of another region that started firing between the fault and this many seconds
after the faulted region's counts as caused by the fault (a later one has another cause)."""


PRIOR = 2.0
"""Seconds before the fault that `fires` looks at too: an alert firing then predates it."""
DECLARED_SETTLE = 120.0
"""Seconds after its fault's restore an alert its experiment declares may still start, when
no alert expectation judges that fault (the default `resolve_budget`)."""
LATE = 2.0
"""Seconds a rule's next evaluation may come (and its sample become readable) after its
interval: an alert with no sample for longer than both has left the state."""


def evaluation_interval(prometheus: PrometheusClient, alert: str | None) -> float:
    """How long one `ALERTS` sample of `alert` (of any alert when None) stands for its state:
    the longest evaluation interval of the loaded rule groups holding it (each evaluation
    writes one); 0 when none does, so that only samples inside a window count."""
    return max(
        (
            float(group.get("interval") or 0)
            for group in prometheus.rules("alert")
            if alert is None or any(r.get("name") == alert for r in group.get("rules", []))
        ),
        default=0.0,
    )


def _left_state(last: float, now: float, interval: float) -> bool:
    """No sample since `last` for longer than an evaluation (and LATE): the alert left the
    state (or its Prometheus stopped)."""
    return now - last > interval + LATE


def _raw_series(
    prometheus: PrometheusClient, selector: str, since: float, until: float, interval: float
) -> Iterator[dict[str, Any]]:
    """The series of `selector` with the samples written after `since` until `until`: range
    vectors evaluated at their end, each at most MAX_SAMPLES evaluations long, oldest first."""
    chunk = round(MAX_SAMPLES * max(interval, 1.0) * 1000)
    low = round(since * 1000)
    high = max(round(until * 1000), low + 1)
    while low < high:
        top = min(low + chunk, high)
        yield from prometheus.query(f"{selector}[{top - low}ms]", time=top / 1000)
        low = top


def firing_series(
    prometheus: PrometheusClient,
    alert: str | None,
    start: float,
    end: float,
    interval: float,
    states: str = "firing",
) -> list[dict[str, Any]]:
    """`ALERTS{alertstate=~states}` series in that state between start and end, each with
    `metric`, `first` and `last`: the first and last sample of it Prometheus wrote from the
    last evaluation at or before start (up to `interval` seconds before it: see
    evaluation_interval) until end. A sample before start means the alert was in the state
    then; a Prometheus' samples never reach past the time it stopped."""
    named = f'alertname="{alert}",' if alert else ""
    selector = f'ALERTS{{{named}alertstate=~"{states}"}}'
    found: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for series in _raw_series(prometheus, selector, start - interval, max(end, start), interval):
        key = tuple(sorted(series["metric"].items()))
        first, last = float(series["values"][0][0]), float(series["values"][-1][0])
        seen = found.setdefault(key, {"metric": series["metric"], "first": first, "last": last})
        seen["last"] = max(seen["last"], last)
    return list(found.values())


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
    return math.inf if end is None else end + settle


def _describe_fault(fault: Entry) -> str:
    """'latency fault 12:00:01..12:01:10' (local time; '..open' while not restored)."""
    end = fault.field("end")
    return (
        f"{fault.field('action')} fault {_clock(fault.field('start'))}.."
        f"{'open' if end is None else _clock(end)}"
    )


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def _wait_until(deadline: float) -> float:
    """Budget left until a wall-clock deadline (0 when it passed: look once)."""
    return max(0.0, deadline - time.time())


class _AlertCheck:
    """The checks of one alert expectation for one fault entry; collects problems."""

    def __init__(self, exp: AlertExpectation, ctx: Context, fault: Entry):
        self.exp = exp
        self.ctx = ctx
        self.fault = fault
        self.region = fault.field("region")
        self.start = fault.field("start")
        self.prometheus = ctx.backends.prometheus()
        self.grace = notification_grace(ctx)
        self.queries: list[str] = []
        self.observed: dict[str, Any] = {}
        self.problems: list[str] = []
        self.times: dict[str, float] = {}
        self.last_capture_request = ""
        self.intervals: dict[str, float] = {}

    def _interval(self, alert: str) -> float:
        """evaluation_interval of `alert`, asked once per check."""
        if alert not in self.intervals:
            self.intervals[alert] = evaluation_interval(self.prometheus, alert)
        return self.intervals[alert]

    def _series(self, alert: str, start: float, end: float) -> list[dict[str, Any]]:
        return firing_series(self.prometheus, alert, start, end, self._interval(alert))

    def _region_of(self, labels: dict[str, str]) -> str | None:
        return labels.get(self.exp.region_label)

    def fires(self) -> None:
        exp = self.exp

        def observe() -> Look:
            end = min(time.time(), self.start + exp.budget)
            series = self._series(exp.alert, self.start - PRIOR, end)
            mine = [s for s in series if self._region_of(s["metric"]) == self.region]
            return Look(done=bool(mine), observed=series, details={"mine": mine})

        polled = poll(observe, _wait_until(self.start + exp.budget))
        self.queries.append(self.prometheus.last_request)
        series, mine = polled.look.observed, polled.look.details["mine"]
        self.observed["firing"] = [{**s["metric"], "first": s["first"]} for s in series]
        if not mine:
            self.problems.append(
                f"{exp.alert} did not fire for {self.region} within {exp.budget:g}s of the "
                f"{self.fault.field('action')} fault at {self.start:.3f}"
            )
            return
        already = [s for s in mine if s["first"] < self.start]
        if already:
            self.problems.append(
                f"{exp.alert} for {self.region} was already firing when the "
                f"{self.fault.field('action')} fault started at {self.start:.3f}: it cannot "
                "count as this fault's detection"
            )
            return
        self.times["time_to_fire"] = max(0.0, mine[0]["first"] - self.start)
        self._labels_match([s["metric"] for s in mine], "alert")
        causes = FaultCauses(self.ctx)
        spread_until = mine[0]["first"] + SPREAD_WINDOW
        others = sorted(
            {
                str(self._region_of(s["metric"]))
                for s in series
                if self.start <= s["first"] <= spread_until  # not firing already
                and self._region_of(s["metric"]) != self.region
                and causes.cause(exp.alert, self._region_of(s["metric"]), s["first"]) is None
            }
        )
        if others:
            self.problems.append(
                f"{exp.alert} also fired for region(s) {others}, where the ledger had no fault "
                "that may cause it"
            )

    def _labels_match(self, label_sets: list[dict[str, str]], what: str) -> None:
        """Every one of the matching alerts (or notifications) carries the expected labels."""
        for labels in label_sets:
            wrong = {k: labels.get(k) for k, v in self.exp.labels.items() if labels.get(k) != v}
            if wrong:
                expected = {k: self.exp.labels[k] for k in wrong}
                self.problems.append(
                    f"{self.exp.alert} for {self.region}: a matching {what} has labels {wrong}, "
                    f"expected {expected}"
                )
                return

    def _notifications(self, alert: str, status: str, since: float) -> list[dict[str, Any]]:
        """Notifications of `alert` for the faulted region since `since`, as stored by the
        capture receiver (Alertmanager's webhook target)."""
        capture = self.ctx.backends.capture()
        label = f"{self.exp.region_label}={self.region}"
        found = capture.notifications(alertname=alert, status=status, since=since, label=label)
        self.last_capture_request = capture.last_request
        return found

    def _await_notifications(
        self, alert: str, status: str, since: float, deadline: float
    ) -> list[dict[str, Any]]:
        def observe() -> Look:
            found = self._notifications(alert, status, since)
            return Look(done=bool(found), observed=found)

        notes = poll(observe, _wait_until(deadline)).look.observed
        self.queries.append(self.last_capture_request)
        return notes

    def routed(self) -> None:
        exp = self.exp
        deadline = self.start + exp.budget + self.grace
        notes = self._await_notifications(exp.alert, "firing", self.start, deadline)
        receivers = sorted({n["receiver"] for n in notes})
        self.observed["notifications"] = [(n["receiver"], n["labels"]) for n in notes]
        if receivers != [exp.receiver]:
            got = f"receiver(s) {receivers}" if receivers else "no receiver"
            self.problems.append(
                f"{exp.alert} for {self.region} reached {got}, expected {exp.receiver!r}: "
                f"check the Alertmanager route matching {dict(exp.labels)}"
            )
        else:
            self.times["time_to_notify"] = notes[0]["received_at"] - self.start
            self._labels_match([n["labels"] for n in notes], "notification")

    def suppressed(self) -> None:
        """`alert` was inhibited by `suppressed_by` during this fault: the inhibitor fired for
        the region after the fault started and notified; from its first notification until
        it stopped firing, `alert` kept firing in Prometheus yet reached no receiver (neither
        firing nor resolved), though it had reached `receiver` (any, without one) before."""
        exp = self.exp
        window = self._inhibitor_window()
        if window is None:
            return
        on, off = window
        renotify = renotify_interval(self.ctx)
        if off - on < renotify:
            self.problems.append(
                f"{exp.suppressed_by} for {self.region} fired for {off - on:.1f}s after "
                f"notifying, less than Alertmanager takes to re-notify a firing alert "
                f"({renotify:g}s: repeat_interval + group_interval): a leak of {exp.alert} "
                "could not have shown; hold the fault longer or shorten the repeat interval"
            )
            return
        series = [
            s
            for s in self._series(exp.alert, self.ctx.window()[0], off)
            if self._region_of(s["metric"]) == self.region
        ]
        self.queries.append(self.prometheus.last_request)
        interval = self._interval(exp.alert)
        through = [
            s for s in series if s["first"] <= on and not _left_state(s["last"], off, interval)
        ]
        self.observed["inhibited_firing"] = [
            {**s["metric"], "first": s["first"], "last": s["last"]} for s in series
        ]
        if not through:
            self.problems.append(
                f"{exp.alert} for {self.region} was not firing throughout {exp.suppressed_by}'s "
                f"window ({on:.3f} to {off:.3f}): its silence then proves no inhibition"
            )
            return
        notes = sorted(
            self._notifications(exp.alert, "firing", through[0]["first"])
            + self._notifications(exp.alert, "resolved", through[0]["first"]),
            key=lambda n: n["received_at"],
        )
        self.queries.append(self.last_capture_request)
        before = [n for n in notes if n["status"] == "firing" and n["received_at"] < on]
        leaked = [n for n in notes if on <= n["received_at"] <= off]
        self.observed["notified_before"] = [(n["receiver"], n["received_at"]) for n in before]
        self.observed["leaked"] = [(n["receiver"], n["status"], n["received_at"]) for n in leaked]
        receivers = sorted({n["receiver"] for n in before})
        if not before or (exp.receiver and receivers != [exp.receiver]):
            got = f"receiver(s) {receivers}" if receivers else "no receiver"
            wanted = repr(exp.receiver) if exp.receiver else "a receiver"
            self.problems.append(
                f"{exp.alert} for {self.region} reached {got} before {exp.suppressed_by} fired, "
                f"expected {wanted}: without that, its silence cannot be told from inhibition"
            )
        if leaked:
            shown = ", ".join(
                f"{n['status']} to {n['receiver']!r} at +{n['received_at'] - on:.1f}s"
                for n in leaked[:5]
            )
            self.problems.append(
                f"{exp.alert} for {self.region} reached a receiver {len(leaked)} time(s) while "
                f"{exp.suppressed_by} fired ({off - on:.1f}s from its first notification at "
                f"{on:.3f}), though it should inhibit it: {shown}"
            )
        self.times["inhibited_for"] = off - on

    def _inhibitor_window(self) -> tuple[float, float] | None:
        """(first notification, last firing) of `suppressed_by` for this fault's region: it
        must start firing after the fault started, notify, and stop within `resolve_budget`
        of the restore. None, with the problem noted, when it does not."""
        exp = self.exp
        inhibitor = str(exp.suppressed_by)
        end = self.fault.field("end")
        if end is None:
            self.problems.append(
                f"the {self.fault.field('action')} fault in {self.region} was never restored "
                f"(the ledger has no end for it): when {inhibitor} stopped inhibiting cannot "
                "be judged"
            )
            return None

        def observe() -> Look:
            now = min(time.time(), end + exp.resolve_budget)
            mine = [
                s
                for s in self._series(inhibitor, self.start - PRIOR, now)
                if self._region_of(s["metric"]) == self.region
            ]
            last = max((s["last"] for s in mine), default=now)
            done = bool(mine) and _left_state(last, now, self._interval(inhibitor))
            return Look(done=done, observed=mine)

        polled = poll(observe, _wait_until(end + exp.resolve_budget))
        self.queries.append(self.prometheus.last_request)
        mine = polled.look.observed
        if not mine or min(s["first"] for s in mine) > self.start + exp.budget:
            self.problems.append(
                f"{inhibitor} (the inhibiting alert) did not fire for {self.region} within "
                f"{exp.budget:g}s of the {self.fault.field('action')} fault at {self.start:.3f}"
            )
            return None
        first = min(s["first"] for s in mine)
        if first < self.start:
            self.problems.append(
                f"{inhibitor} for {self.region} was already firing when the "
                f"{self.fault.field('action')} fault started at {self.start:.3f}"
            )
            return None
        if not polled.look.done:
            self.problems.append(
                f"{inhibitor} for {self.region} still firing {exp.resolve_budget:g}s after the "
                f"restore at {end:.3f}"
            )
            return None
        self.times["time_to_fire"] = first - self.start
        notes = self._await_notifications(
            inhibitor, "firing", self.start, self.start + exp.budget + self.grace
        )
        if not notes:
            self.problems.append(
                f"{inhibitor} (the inhibiting alert) for {self.region} never notified"
            )
            return None
        on = notes[0]["received_at"]
        self.times["time_to_notify"] = on - self.start
        return on, max(s["last"] for s in mine)

    def resolves(self) -> None:
        exp = self.exp
        end = self.fault.field("end")
        if end is None:
            self.problems.append(
                f"the {self.fault.field('action')} fault in {self.region} was never restored "
                "(the ledger has no end for it): its alert's resolution cannot be judged"
            )
            return
        if exp.resolve_budget is None:
            return  # restored; the alert is meant to outlast the fault

        # The next fault in the region ends the window: what fires after it is its own.
        later = [
            f.field("start")
            for f in self.ctx.faults()
            if f.field("region") == self.region and f.field("start") > end
        ]
        horizon = min([end + exp.resolve_budget, *later])

        def observe() -> Look:
            now = min(time.time(), horizon)
            series = [
                s
                for s in self._series(exp.alert, end, now)
                if self._region_of(s["metric"]) == self.region
            ]
            last = max((s["last"] for s in series), default=end)
            return Look(done=_left_state(last, now, self._interval(exp.alert)), observed=last)

        polled = poll(observe, _wait_until(horizon))
        self.queries.append(self.prometheus.last_request)
        if not polled.look.done:
            self.problems.append(
                f"{exp.alert} for {self.region} still firing {horizon - end:.0f}s after the "
                f"restore at {end:.3f}"
                + (
                    " (when the next fault there began)"
                    if horizon < end + exp.resolve_budget
                    else ""
                )
            )
            return
        self.times["time_to_resolve"] = max(0.0, polled.look.observed - end)
        if exp.receiver:
            deadline = end + exp.resolve_budget + self.grace
            notes = self._await_notifications(exp.alert, "resolved", end, deadline)
            if exp.receiver not in {n["receiver"] for n in notes}:
                self.problems.append(
                    f"no resolved notification of {exp.alert} for {self.region} reached "
                    f"{exp.receiver!r}"
                )


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
    checks = [_AlertCheck(exp, ctx, fault) for fault in faults]
    for check in checks:
        if exp.suppressed_by:
            check.suppressed()
            continue
        check.fires()
        if not check.problems:
            if exp.receiver:
                check.routed()
            check.resolves()
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

    def caused(series: dict[str, Any]) -> bool:
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

    polled = poll(observe, _wait_until(end + exp.budget), max_interval=2.0)
    unexpected, until = polled.look.details["unexpected"], polled.look.details["until"]
    names = []
    for s in unexpected:
        name, region = s["metric"].get("alertname", ""), s["metric"].get(exp.region_label)
        names.append(
            f"{name} ({region or 'no region'}) {s['metric'].get('alertstate')} from "
            f"{_clock(s['first'])} ({s['first']:.0f}) "
            + causes.stray(name, region, s["first"], s["last"])
        )
    return Outcome(
        passed=not unexpected,
        summary=f"unexpected alert(s) in the window: {'; '.join(names)}"
        if unexpected
        else f"no unexpected alert pending or firing between {start:.0f} and {until:.0f}",
        query=prometheus.last_request,
        observed=json.dumps([s["metric"] for s in polled.look.observed]),
        waited=polled.waited,
    )
