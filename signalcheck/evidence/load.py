"""Load expectation: the service counted exactly the requests the load got an answer for.

A ledger `load` entry against its region's request counter, per route and status class: the
expectation names the counter and its route and status labels (an instrumentation preset or
its own); a status label holds codes (200) or classes (2xx), its first digit makes the class.
The service's count over the load window is the difference of the counter's values at two
scrapes: the last one at or before the load's start and the first one at or after its end
(read as of the load's end, whenever the check runs: a later actor's requests are not in it).
That difference is exact when the counter does not reset and nothing else sends to the
region between the two scrapes; `increase()` is not: it extrapolates to the window's edges and
misses the first increment of a series born inside the window (the first 5xx, say). Another
actor of the ledger that sent to the region between the two scrapes (a probe, another load,
background traffic) makes the load not judged, saying so: its requests were counted too.

Routes the service does not count (health, metrics) and requests that got no response are
left out of the comparison; a route/status pair that only the service counted shows up as
a row with `sent == 0` (somebody else sent traffic, or the route templates disagree).
`prometheus_error_rate` is the window's 5xx share as one PromQL expression computes it from
the same counter values, to hold against the error rate Locust measured.

A counter with no series in the load's region says so, instead of a gap per route: the
counter or instrumentation named is not what the service exports, or the region label differs.

Timing: the first scrape at or after the load's end (its samples' timestamp, Prometheus' own
record) minus the load's end, when that scrape had counted every answered request.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.evidence.context import Context
from signalcheck.evidence.metrics import killed_regions
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import LoadExpectation
from signalcheck.ledger import Entry

NO_RESPONSE = "none"
SERVER_ERROR = "5xx"
MAX_LOOK_SECONDS = 600
"""How far after the load's end its first scrape is looked for (raw samples of that range)."""


@dataclass(frozen=True)
class RouteAccuracy:
    route: str
    status_class: str
    sent: int
    counted: float

    @property
    def gap(self) -> float:
        """|counted - sent| / sent; 0 when both are 0, infinite when only one side counted."""
        if self.sent == 0:
            return 0.0 if self.counted == 0 else math.inf
        return abs(self.counted - self.sent) / self.sent


@dataclass(frozen=True)
class LoadAccuracy:
    region: str
    start: float
    end: float
    tolerance: float
    rows: list[RouteAccuracy]
    at: float
    """When the service's count was read (unix seconds): the first scrape at or after the
    load's end, else when it was looked for."""
    unseen: str = ""
    """Why nothing of the service's counter could be compared: it had no series in the
    region, or no scrape since the load's end yet; empty when it was read."""
    overlap: str = ""
    """The other actors whose requests the counter counted between its two reads (the load is
    then not judged); empty when none."""

    @property
    def read(self) -> bool:
        """Whether the verdict is final: the count was read, or other actors overlapped."""
        return not self.unseen or bool(self.overlap)

    @property
    def passed(self) -> bool:
        return (
            not self.unseen
            and not self.overlap
            and bool(self.rows)
            and all(row.gap <= self.tolerance for row in self.rows)
        )

    @property
    def worst_gap(self) -> float:
        return max((row.gap for row in self.rows), default=math.inf)

    @property
    def sent_error_rate(self) -> float:
        return _error_rate({(r.route, r.status_class): r.sent for r in self.rows})

    @property
    def counted_error_rate(self) -> float:
        return _error_rate({(r.route, r.status_class): r.counted for r in self.rows})

    def wrong(self) -> list[RouteAccuracy]:
        """The rows off by more than the tolerance."""
        return [row for row in self.rows if row.gap > self.tolerance]

    def problem(self) -> str:
        """Why this load was not counted right (the counter unseen, or the rows off); '' if
        it was."""
        if self.overlap or self.unseen:
            return self.overlap or self.unseen
        wrong = self.wrong()
        return f"{self.region}: " + ", ".join(_row_text(w) for w in wrong) if wrong else ""

    def describe(self) -> str:
        """One line per route and status class, the ones off by more than the tolerance marked."""
        lines = [
            f"load on {self.region} {self.start:.3f}..{self.end:.3f}: worst gap "
            f"{self.worst_gap:.2%} (tolerance {self.tolerance:.2%})"
        ]
        for reason in (self.overlap, self.unseen):
            if reason:
                lines.append(f"✗ {reason}")
        for row in self.rows:
            lines.append(("  " if row.gap <= self.tolerance else "✗ ") + _row_text(row))
        return "\n".join(lines)


def answered(entry: Entry, settings: LoadExpectation) -> dict[tuple[str, str], int]:
    """(route, status class) -> requests the load got an answer for, on counted routes."""
    return {
        (route, status): n
        for route, classes in (entry.field("requests") or {}).items()
        if route not in settings.uncounted_routes
        for status, n in classes.items()
        if status != NO_RESPONSE
    }


def load_accuracy(
    prometheus: PrometheusClient,
    entry: Entry,
    settings: LoadExpectation,
    others: list[Entry] | None = None,
) -> LoadAccuracy:
    """Compare a ledger `load` entry's requests with what `settings.counter` counted in its
    region between its last scrape at or before the entry's start and its first at or after
    the entry's end; `others` (the ledger's other entries) that sent to the region between
    those scrapes make it not judged.

    Waits until `settle` seconds after the end have passed (the scrape after the load).
    Raises ValueError when the counter went down in the window (the service restarted).
    """
    region, start, end = entry.field("region"), entry.field("start"), entry.field("end")
    time.sleep(max(0.0, min(settings.settle, end + settings.settle - time.time())))
    selector = _with_matcher(settings.counter, f'{settings.region_label}="{region}"')
    before = counted_by_class(prometheus, selector, start, settings)
    at = first_scrape(prometheus, selector, end)
    if at is None:
        now = time.time()
        unseen = (
            f"{region}: no scrape of {selector} since the load's end ({end:.3f}) yet"
            if before
            else _unseen(prometheus, region, start, now, settings)
        )
        return LoadAccuracy(region, start, end, settings.tolerance, [], now, unseen)
    overlap = _overlapping(others or [], entry, last_scrape(prometheus, selector, start), at)
    if overlap:
        return LoadAccuracy(region, start, end, settings.tolerance, [], at, overlap=overlap)
    after = counted_by_class(prometheus, selector, at, settings)
    counted = {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after.keys() | before}
    reset = sorted(f"{route} {status}" for (route, status), n in counted.items() if n < 0)
    if reset:
        raise ValueError(f"{selector} went down during the load window ({', '.join(reset)})")
    sent = answered(entry, settings)
    keys = sorted(sent.keys() | {key for key, n in counted.items() if n > 0})
    rows = [
        RouteAccuracy(route, cls, sent.get((route, cls), 0), counted.get((route, cls), 0.0))
        for route, cls in keys
    ]
    unseen = "" if before or after else _unseen(prometheus, region, start, at, settings)
    return LoadAccuracy(region, start, end, settings.tolerance, rows, at, unseen)


def first_scrape(prometheus: PrometheusClient, selector: str, after: float) -> float | None:
    """The time of `selector`'s first sample at or after `after` (the scrape that counted
    everything answered before it), None while there is none."""
    now = time.time()
    if now < after:
        return None
    until = min(now, after + MAX_LOOK_SECONDS)
    series = prometheus.query(f"{selector}[{math.ceil(until - after) + 1}s]", time=until)
    times = [float(t) for s in series for t, _ in s["values"] if float(t) >= after]
    return min(times, default=None)


def last_scrape(prometheus: PrometheusClient, selector: str, at: float) -> float:
    """The time of `selector`'s last sample at or before `at` (`at` when it had none)."""
    latest = prometheus.query(f"max(timestamp({selector}))", time=at)
    return float(latest[0]["value"][1]) if latest else at


def _sends_to(entry: Entry, region: str) -> str:
    """What the ledger entry of an actor sent to `region`'s service ('' if nothing): a probe,
    a load, background traffic."""
    if entry.kind == "probe" and entry.field("region") == region:
        return f"probe {entry.field('check')}"
    if entry.kind == "load" and entry.field("region") == region:
        return f"load {entry.field('profile')}"
    if entry.kind == "traffic":
        sent = (entry.field("regions") or {}).get(region) or {}
        return "background traffic" if sent.get("sends", "none") != "none" else ""
    return ""


def _overlapping(others: list[Entry], load: Entry, since: float, until: float) -> str:
    """Why the load cannot be judged: the other actors that sent to its region between the
    counter's reads at `since` and `until` ('' when none did)."""
    region = load.field("region")
    during = sorted(
        f"{what} {e.field('start'):.3f}..{e.field('end'):.3f}"
        for e in others
        if e is not load
        and (what := _sends_to(e, region))
        and e.field("start") is not None
        and e.field("start") <= until
        and (e.field("end") or until) > since
    )
    if not during:
        return ""
    return (
        f"{region}: not judged: {', '.join(during)} sent to the region between the counter's "
        f"reads at {since:.3f} (its last scrape before the load's start) and {until:.3f} (its "
        "first after the load's end), so the service counted those requests too: leave a "
        "scrape interval between the load and the region's other traffic"
    )


def counted_by_class(
    prometheus: PrometheusClient, selector: str, at: float, settings: LoadExpectation
) -> dict[tuple[str, str], float]:
    """(route, status class) -> the counter's value at time `at` (absent series count as 0),
    by the expectation's route and status labels; a series without one of them is counted
    under "(no <label>)"."""
    route, status = settings.route_label, settings.status_label
    totals: dict[tuple[str, str], float] = {}
    for series in prometheus.query(f"sum by ({route}, {status}) ({selector})", time=at):
        labels = series["metric"]
        key = (labels.get(route) or f"(no {route})", status_class(labels.get(status), status))
        totals[key] = totals.get(key, 0.0) + float(series["value"][1])
    return totals


def status_class(value: str | None, label: str) -> str:
    """The status class of a status label value, a code ("503") or a class ("5xx"): its first
    digit; a value that starts with no digit is shown as it is, a missing one by the label."""
    if not value:
        return f"(no {label})"
    return f"{value[0]}xx" if value[0].isdigit() else value


def _unseen(
    prometheus: PrometheusClient, region: str, start: float, at: float, settings: LoadExpectation
) -> str:
    """What to say when the counter had no series in `region` at `start` nor at `at`: the
    selector, the labels expected, and the regions its series do carry (if any)."""
    elsewhere = sorted(
        s["metric"].get(settings.region_label) or "(none)"
        for s in prometheus.query(
            f"count by ({settings.region_label}) ({settings.counter})", time=at
        )
    )
    found = (
        f"its series carry {settings.region_label}={', '.join(elsewhere)}"
        if elsewhere
        else "no series of it at all"
    )
    return (
        f"{region}: no series of {settings.counter} with {settings.region_label}={region} in "
        f"the window {start:.3f}..{at:.3f} ({found}; expected labels {settings.route_label} "
        f"and {settings.status_label}, instrumentation {settings.instrumentation}): "
        "is the counter/instrumentation right?"
    )


def prometheus_error_rate(
    prometheus: PrometheusClient,
    region: str,
    start: float,
    end: float,
    settings: LoadExpectation,
) -> float | None:
    """The 5xx share of the window as one PromQL expression computes it from the counter at
    `start` and at `end + settle` (`@` modifiers); None when the counter saw no request.
    `5..` matches a status label of codes (503) and of classes (5xx) alike."""
    selector = _with_matcher(settings.counter, f'{settings.region_label}="{region}"')
    errors = _with_matcher(selector, f'{settings.status_label}=~"5.."')
    after = end + settings.settle

    def grown(series: str) -> str:
        now, then = (f"(sum({series} @ {t:.3f}) or vector(0))" for t in (after, start))
        return f"({now} - {then})"

    result = prometheus.query(f"{grown(errors)} / {grown(selector)}", time=after)
    rate = float(result[0]["value"][1]) if result else math.nan
    return None if math.isnan(rate) or math.isinf(rate) else rate


def check_load(exp: LoadExpectation, ctx: Context) -> Outcome:
    loads = [e for e in ctx.entries if e.kind == "load"]
    if not loads:
        return ctx.without_evidence(
            "load run", conditional=exp.conditional, planned=ctx.planned("load")
        )
    judged: list[Entry] = []
    notes: list[str] = []
    for entry in loads:
        region, start, end = entry.field("region"), entry.field("start"), entry.field("end")
        where = f"{region} {start:.3f}..{end:.3f}"
        if region in killed_regions(ctx, start, end):
            notes.append(
                f"load on {where} not judged: the region was killed during the window "
                "(a restarted counter loses what was not scraped yet)"
            )
        elif not answered(entry, exp):
            notes.append(f"load on {where} not judged: no answered request to a counted route")
        else:
            judged.append(entry)
    if not judged:
        return Outcome.nothing_to_judge("; ".join(notes))
    prometheus = ctx.backends.prometheus()

    def observe() -> Look:
        try:
            results = [load_accuracy(prometheus, entry, exp, ctx.entries) for entry in judged]
        except ValueError as exc:  # a counter reset: conclusive
            return Look(done=True, problem=str(exc), observed=[])
        problem = "; ".join(p for p in (r.problem() for r in results) if p)
        # Once read, a count is final: it is the first scrape after the load's end.
        return Look(done=all(r.read for r in results), problem=problem, observed=results)

    last_end = max(e.field("end") for e in judged)
    polled = poll(observe, ctx.wait_for_due(exp.budget, after=last_end))
    results: list[LoadAccuracy] = polled.look.observed
    passed = polled.look.done and not polled.look.problem
    summary = polled.look.problem or (
        f"the service counted exactly the answered requests of {len(results)} load run(s) "
        f"({', '.join(sorted({r.region for r in results}))}), per route and status class "
        f"(tolerance {exp.tolerance:.2%})"
    )
    return Outcome(
        passed=passed,
        summary=summary + (f" ({'; '.join(notes)})" if notes else ""),
        query=f"sum by ({exp.route_label}, {exp.status_label}) ({exp.counter}) of each load's "
        "region at its last scrape before its start and its first after its end "
        f"({prometheus.last_request})",
        observed="\n".join(r.describe() for r in results),
        waited=polled.waited,
        time_to_appear=max(r.at - r.end for r in results) if passed else None,
    )


def _row_text(row: RouteAccuracy) -> str:
    return f"{row.route} {row.status_class}: sent {row.sent}, counted {row.counted:g}"


def _error_rate(counts: dict[tuple[str, str], float]) -> float:
    total = sum(counts.values())
    errors = sum(n for (_, status), n in counts.items() if status == SERVER_ERROR)
    return errors / total if total else 0.0


def _with_matcher(selector: str, matcher: str) -> str:
    """Add one label matcher to a selector like `metric{a="b"}` or `metric`."""
    if selector.endswith("}"):
        head = selector[:-1].rstrip()
        return f"{head}{'' if head.endswith('{') else ','}{matcher}}}"
    return f"{selector}{{{matcher}}}"
