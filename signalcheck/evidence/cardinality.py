"""Cardinality: a metric's series stay bounded, and each label's values are few and of the
expected form (route templates, never raw paths with ids), over the whole run's window."""

from __future__ import annotations

import json
import math
import re
import time

from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import CardinalityExpectation

MAX_LISTED = 3
MAX_RANGE_SECONDS = 24 * 3600


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


def check_cardinality(exp: CardinalityExpectation, ctx: Context) -> Outcome:
    prometheus = ctx.backends.prometheus()
    start, _ = ctx.window()
    requests: list[str] = []

    def observe() -> Look:
        windowed = _over_window(exp.selector, start)
        requests.clear()
        count = prometheus.query(f"count({windowed})")
        requests.append(prometheus.last_request)
        series = int(float(count[0]["value"][1])) if count else 0
        if not series:
            return Look(done=False, problem=f"no series of {exp.selector} in this run's window")
        problems = []
        if exp.max_series is not None and series > exp.max_series:
            problems.append(f"{series} series, more than {exp.max_series}")
        values: dict[str, list[str]] = {}
        for label in exp.labels:
            result = prometheus.query(f"count by ({label}) ({windowed})")
            requests.append(prometheus.last_request)
            found = {s["metric"].get(label, "") for s in result} - {""}
            values[label] = sorted(found)
            problems += _label_problems(exp, label, found)
        # Conclusive either way: more samples only add values, never remove one.
        return Look(done=True, problem="; ".join(problems), observed={"series": series, **values})

    polled = poll(observe, ctx.wait_for_due(exp.budget))
    look = polled.look
    return Outcome(
        passed=look.done and not look.problem,
        summary=look.problem
        or f"{look.observed['series']} series of {exp.selector}, labels within their limits",
        query=" and ".join(requests),
        observed=json.dumps(look.observed),
        waited=polled.waited,
    )
