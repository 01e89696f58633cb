"""Metric expectations, judged on this run's series: they exist (per region, with labels), their
values are numbers within bounds, and a counter's increase over the ledger's window equals what
the ledger says reached the service.

A series counts as this run's evidence as the expectation's `series` says: it moved (its value
now differs from its value at the run's start, or it had none then), or Prometheus scraped it
after the run's start (a raw sample in the window), or, opted into, it merely exists now.
Series only from before the run are named in the message, never counted.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from signalcheck.backends.prometheus import Sample
from signalcheck.evidence.context import REACHED_SERVICE, Context, no_probe_reached
from signalcheck.evidence.counters import Increase
from signalcheck.evidence.outcome import Outcome, late
from signalcheck.evidence.polling import Look, poll
from signalcheck.evidence.promql import metric_names
from signalcheck.expectations import MetricExpectation

COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")
"""Names of counters (and of a histogram's or summary's counter series), by convention."""
BASELINE_LOOKBACK = 600.0
"""Seconds before the window's start searched for a counter's last raw sample (its value at
the start): more than a scrape interval plus a fault that stopped the scrapes."""

SeriesKey = tuple[tuple[str, str], ...]


def _series_text(result: list[Sample]) -> str:
    return json.dumps([{**s["metric"], "value": s["value"][1]} for s in result])


def _key(series: Sample) -> SeriesKey:
    return tuple(sorted(series["metric"].items()))


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def _range(selector: str, seconds: float) -> str:
    return f"{selector}[{max(1, math.ceil(seconds * 1000))}ms]"


def judged_by(exp: MetricExpectation) -> str:
    """moved | scraped | exists_now: how `exp`'s series are told to be this run's."""
    if exp.series != "auto":
        return exp.series
    counters = any(name.endswith(COUNTER_SUFFIXES) for name in metric_names(exp.query))
    return "scraped" if exp.reads_selector and not counters else "moved"


_SINCE = {"moved": "moved since the run's start", "scraped": "scraped since the run's start"}


def check_metric(exp: MetricExpectation, ctx: Context) -> Outcome:
    if exp.increase_equals:
        return _check_increase(exp, ctx)
    prometheus = ctx.backends.prometheus()
    regions = set(ctx.config.regions)
    rule = judged_by(exp)
    start, end = ctx.window()
    at_start: dict[SeriesKey, Sample] = {}
    requests = []
    if rule == "moved":
        at_start = {_key(s): s for s in prometheus.query(exp.query, time=start)}
        requests.append(f"{exp.query} at the run's start ({prometheus.last_request})")
    since = f"{_SINCE[rule]} at {_clock(start)}" if rule in _SINCE else ""

    def observe() -> Look:
        at = min(time.time(), end + exp.budget)
        now = prometheus.query(exp.query, time=None if rule == "exists_now" else at)
        if rule == "scraped":
            result = prometheus.query(_range(exp.query, at - start), time=at)
        elif rule == "moved":
            result = [s for s in now if _moved(s, at_start.get(_key(s)))]
        else:
            result = now
        fresh = {_key(s) for s in result}
        earlier = [s for s in now if _key(s) not in fresh]
        problems = []
        if not result:
            problems.append(f"the query returned no series{' ' + since if since else ''}")
            if earlier:
                problems[-1] += (
                    f" ({len(earlier)} only from before the run, e.g. {earlier[0]['metric']}"
                    f"{_OPT_IN})"
                )
        if exp.every_region and result:
            problems += _regions_missing(exp, regions, result, earlier, since)
        for label in exp.labels:
            lacking = [s["metric"] for s in result if not s["metric"].get(label)]
            if lacking:
                problems.append(f"{len(lacking)} series lack label {label!r}, e.g. {lacking[0]}")
        problems += _out_of_bounds(exp, result)
        return Look(done=not problems, problem="; ".join(problems), observed=result)

    polled = poll(observe, ctx.wait_for_due(exp.budget))
    look = polled.look
    return Outcome(
        passed=look.done,
        summary=look.problem
        or f"{len(look.observed)} series{' ' + since if since else ''} as expected",
        query="; ".join([*requests, f"{exp.query}  ({prometheus.last_request})"]),
        observed=_series_text(look.observed),
        waited=polled.waited,
    )


_OPT_IN = " (series: exists_now accepts a series an earlier run left)"


def _regions_missing(
    exp: MetricExpectation,
    regions: set[str],
    result: list[Sample],
    earlier: list[Sample],
    since: str,
) -> list[str]:
    """The configured regions no series of `result` is of, and those only `earlier` has."""
    seen = {s["metric"].get(exp.region_label) for s in result}
    missing = sorted(regions - seen)
    if not missing:
        return []
    where = f"label {exp.region_label}; {since or 'found'}: {sorted(r for r in seen if r)}"
    left = sorted(set(missing) & {s["metric"].get(exp.region_label) for s in earlier})
    if left:
        where += f"; only from before the run: {left}{_OPT_IN}"
    this_run = " of this run" if since else ""
    return [f"no series for region(s) {', '.join(missing)}{this_run} ({where})"]


def _moved(now: Sample, then: Sample | None) -> bool:
    """Whether a series' value now differs from its value at the run's start (or it had none)."""
    if then is None:
        return True
    value, before = float(now["value"][1]), float(then["value"][1])
    return value != before and not (math.isnan(value) and math.isnan(before))


def _out_of_bounds(exp: MetricExpectation, result: list[Sample]) -> list[str]:
    """The first value that is not a number within [min, max], if bounds are set."""
    if exp.min is None and exp.max is None:
        return []
    for s in result:
        value = float(s["value"][1])
        if math.isnan(value):
            return [f"value NaN of {s['metric']} is not a number within [{exp.min}, {exp.max}]"]
        if (exp.min is not None and value < exp.min) or (exp.max is not None and value > exp.max):
            return [f"value {value:g} of {s['metric']} outside [{exp.min}, {exp.max}]"]
    return []


# ------------------------------------------------------------------ increase vs. the ledger


@dataclass
class Expected:
    """What the ledger says reached one region's service: at least `least` (successful runs,
    or a load's requests), at most `most` (plus failed attempts that may have reached it)."""

    least: int = 0
    most: int = 0

    def text(self) -> str:
        if self.least == self.most:
            return f"{self.least}"
        return (
            f"{self.least} successful run(s) and {self.most - self.least} failed attempt(s) "
            f"that may have reached the service ({self.least} to {self.most})"
        )


def _expected_counts(
    exp: MetricExpectation, ctx: Context
) -> tuple[dict[str, Expected], float, float]:
    """Per region: what the ledger says reached the service; and the window it was done in.

    A probe entry records its attempts, and the error of the last: every attempt before the
    last failed and may have reached the service (a 5xx, a timeout after the request was
    sent), and so may a failed last one that got a response. A region is judged only when it
    had a successful run."""
    counts: dict[str, Expected] = {}
    times: list[float] = []
    if exp.increase_equals == "probes":
        for probe in ctx.entries:
            if probe.kind != "probe" or (exp.check and probe.field("check") != exp.check):
                continue
            succeeded = probe.field("outcome") == "success"
            reached = succeeded or probe.field("error_class") in REACHED_SERVICE
            attempts = int(probe.field("attempts") or 1)
            may_have = attempts - 1 + (reached and not succeeded)
            if not (succeeded or may_have):
                continue
            counted = counts.setdefault(probe.field("region"), Expected())
            counted.least += succeeded
            counted.most += succeeded + may_have
            times += [probe.field("start"), probe.field("end")]
    else:
        for load in (e for e in ctx.entries if e.kind == "load"):
            total = sum(
                sum(by_status.values()) for by_status in (load.field("requests") or {}).values()
            )
            counted = counts.setdefault(load.field("region"), Expected())
            counted.least += total
            counted.most += total
            times += [load.field("start"), load.field("end")]
    judged = {region: n for region, n in counts.items() if n.least}
    return judged, min(times, default=0.0), max(times, default=0.0)


def killed_regions(ctx: Context, start: float, end: float) -> set[str]:
    """Regions whose service was killed (so its counters restarted) within [start, end]."""
    return {
        f.field("region")
        for f in ctx.faults("kill")
        if f.field("start") <= end and (f.field("end") or end) >= start
    }


def loaded_regions(ctx: Context, start: float, end: float) -> set[str]:
    """Regions a load run sent traffic to within [start, end] (its requests are counted too,
    and a load entry does not say which of them the probe counter also counts)."""
    return {
        e.field("region")
        for e in ctx.entries
        if e.kind == "load" and e.field("start") <= end and e.field("end") >= start
    }


def _nothing_counted(exp: MetricExpectation, excluded: dict[str, set[str]]) -> str:
    """Why an increase expectation has nothing to count, naming the actor that left nothing."""
    if any(excluded.values()):
        return f"no region is left to count: {_excluded_text(excluded)}"
    if exp.increase_equals == "probes":
        return no_probe_reached(exp.check).replace("probe reached", "probe run succeeded against")
    return "no load run in this run"


def _excluded_text(excluded: dict[str, set[str]]) -> str:
    return "; ".join(
        f"{', '.join(sorted(regions))}, {why}" for why, regions in excluded.items() if regions
    )


def _increases(raw: list[Sample], label: str, start: float) -> dict[str, Increase]:
    increases: dict[str, Increase] = {}
    for series in raw:
        region = series["metric"].get(label, "")
        increases.setdefault(region, Increase()).add(series.get("values", []), start)
    return increases


def _check_increase(exp: MetricExpectation, ctx: Context) -> Outcome:
    counts, start, end = _expected_counts(exp, ctx)
    excluded = {
        "killed during the window: a restarted counter loses what was not scraped yet": (
            killed_regions(ctx, start, end)
        ),
        "a load run sent traffic there during the window": (
            loaded_regions(ctx, start, end + exp.budget)
            if exp.increase_equals == "probes"
            else set()
        ),
    }
    left_out = set().union(*excluded.values())
    counts = {r: n for r, n in counts.items() if r not in left_out}
    if not counts:
        return Outcome.nothing_to_judge(_nothing_counted(exp, excluded))
    prometheus = ctx.backends.prometheus()
    note = f" (not counted: {_excluded_text(excluded)})" if left_out else ""
    label = exp.region_label

    def observe() -> Look:
        at = min(time.time(), end + exp.budget)
        raw = prometheus.query(_range(exp.query, at - start + BASELINE_LOOKBACK), time=at)
        increases = _increases(raw, label, start)
        problems = []
        for region, n in sorted(counts.items()):
            got = increases.get(region)
            if got is None:
                problems.append(
                    f"{region}: {exp.query} matched no series with {label}={region!r} from "
                    f"{BASELINE_LOOKBACK:g} s before the window's start to {_clock(at)}"
                )
            elif not n.least - exp.tolerance <= got.total <= n.most + exp.tolerance:
                began = (
                    f" ({got.new} of its {got.series} series had no sample in the "
                    f"{BASELINE_LOOKBACK:g} s before the window's start: counted from 0)"
                    if got.new
                    else ""
                )
                problems.append(
                    f"{region}: counter rose by {got.total:g}, the ledger recorded "
                    f"{n.text()}{began}"
                )
        observed = {r: increases[r].total for r in counts if r in increases}
        return Look(
            done=not problems,
            problem="; ".join(problems),
            observed={"increase": observed},
            details={"increases": increases},
        )

    polled = poll(observe, ctx.wait_for_due(exp.budget))
    look = polled.look
    arrived = None
    problem = look.problem
    if look.done:
        increases: dict[str, Increase] = look.details["increases"]
        targets = {r: n.least - exp.tolerance for r, n in counts.items()}
        reached = [increases[r].reached(n) or start if n > 0 else start for r, n in targets.items()]
        arrived = max(0.0, max(reached) - end)
        problem = late("the counted increase", arrived, exp.budget)
    return Outcome(
        passed=look.done and not problem,
        summary=(
            problem
            or f"increase matches the ledger for {len(counts)} region(s) (±{exp.tolerance:g})"
        )
        + note,
        query=f"raw samples of {exp.query} from {BASELINE_LOOKBACK:g} s before the window's "
        f"start {start:.3f} ({prometheus.last_request})",
        observed=json.dumps(
            {
                **look.observed,
                "expected": {r: [n.least, n.most] for r, n in counts.items()},
            }
        ),
        waited=polled.waited,
        time_to_appear=arrived,
    )
