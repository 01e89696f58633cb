"""Cardinality: a metric's series stay bounded, and each label's values are few and of the
expected form (route templates, never raw paths with ids), over the whole run's window.

A series the run's last requests created exists in Prometheus only after the scrape that
follows them: the check judges once every series of the selector has a sample from after the
run's end (a scrape after the run has landed), or earlier when a limit is already exceeded
(more samples only add values). When the budget ends first, it fails saying so."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable

from signalcheck.backends.prometheus import Sample
from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import CardinalityExpectation

MAX_LISTED = 3
MAX_RANGE_SECONDS = 24 * 3600
LOOKBACK_SECONDS = 300
"""Prometheus' default lookback: an instant query returns only series sampled this recently."""


def _over_window(selector: str, start: float) -> str:
    """Every series of `selector` that had a sample since `start` (a series that lived only
    during the run, e.g. one raw path, counts even after it went stale)."""
    seconds = min(MAX_RANGE_SECONDS, max(1, math.ceil(time.time() - start) + 1))
    return f"last_over_time({selector}[{seconds}s])"


def _label_problems(exp: CardinalityExpectation, label: str, values: set[str]) -> list[str]:
    limit = exp.labels[label]
    problems = []
    if limit.max_values is not None and len(values) > limit.max_values:
        problems.append(
            f"label {label!r} has {len(values)} values, more than {limit.max_values} "
            f"(e.g. {sorted(values)[:MAX_LISTED]})"
        )
    if limit.pattern is not None:
        pattern = re.compile(limit.pattern)
        bad = sorted(v for v in values if not pattern.fullmatch(v))
        if bad:
            problems.append(
                f"{len(bad)} value(s) of label {label!r} do not match {limit.pattern!r}: "
                f"{bad[:MAX_LISTED]} (unbounded values: ids or raw paths in a label)"
            )
    return problems


def _unscraped(ask: Callable[[str], list[Sample]], selector: str, end: float) -> int:
    """How many series of `selector` Prometheus still has (not stale) with no sample since
    `end`: their target has not been scraped since, so the run's last series may be missing.
    Compared by full label set (names included: `timestamp()` and vector matching drop them)."""
    since = time.time() - end
    if since >= LOOKBACK_SECONDS:  # a series still there was sampled after the end
        return 0
    present = {_key(s) for s in ask(selector)}
    fresh = {_key(s) for s in ask(f"{selector}[{max(1, math.floor(since * 1000))}ms]")}
    return len(present - fresh)


def _key(series: Sample) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(series["metric"].items()))


def check_cardinality(exp: CardinalityExpectation, ctx: Context) -> Outcome:
    prometheus = ctx.backends.prometheus()
    start, end = ctx.window()
    requests: list[str] = []

    def ask(promql: str) -> list[Sample]:
        result = prometheus.query(promql)
        requests.append(prometheus.last_request)
        return result

    def observe() -> Look:
        windowed = _over_window(exp.selector, start)
        requests.clear()
        count = ask(f"count({windowed})")
        series = int(float(count[0]["value"][1])) if count else 0
        if not series:
            return Look(done=False, problem=f"no series of {exp.selector} in this run's window")
        unscraped = _unscraped(ask, exp.selector, end)
        problems = []
        if exp.max_series is not None and series > exp.max_series:
            problems.append(f"{series} series, more than {exp.max_series}")
        values: dict[str, list[str]] = {}
        absent = []
        for label in exp.labels:
            found = {s["metric"].get(label, "") for s in ask(f"count by ({label}) ({windowed})")}
            values[label] = sorted(found - {""})
            problems += _label_problems(exp, label, set(values[label]))
            if not values[label]:
                absent.append(f"label {label!r} is on no series of {exp.selector}")
        observed = {"series": series, "not scraped since the run's end": unscraped, **values}
        if problems:  # conclusive: more samples only add series and values
            return Look(done=True, problem="; ".join(problems), observed=observed)
        if unscraped:
            return Look(
                done=False,
                problem=f"{unscraped} of the series of {exp.selector} have no sample since "
                f"the run's end ({end:.3f}): no scrape after the run has landed, so the series "
                "of its last requests cannot be judged yet (a budget shorter than the scrape "
                "interval?)",
                observed=observed,
            )
        return Look(done=True, problem="; ".join(absent), observed=observed)

    polled = poll(observe, ctx.wait_for_due(exp.budget))
    look = polled.look
    return Outcome(
        passed=look.done and not look.problem,
        summary=look.problem
        or f"{look.observed['series']} series of {exp.selector}, labels within their limits, "
        "judged after a scrape that followed the run",
        query=" and ".join(requests),
        observed=json.dumps(look.observed),
        waited=polled.waited,
    )
