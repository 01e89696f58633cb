"""Metric expectations: series exist (per region, with labels), values within bounds, and a
counter's increase over the ledger's window equals what the ledger says was done."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.evidence.context import Context, no_probe_reached
from signalcheck.evidence.outcome import Outcome, late
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import MetricExpectation


def _series_text(result: list[dict[str, Any]]) -> str:
    return json.dumps(
        [{**s.get("metric", {}), "value": s.get("value", [None, None])[1]} for s in result]
    )


def check_metric(exp: MetricExpectation, ctx: Context) -> Outcome:
    if exp.increase_equals:
        return _check_increase(exp, ctx)
    prometheus = ctx.backends.prometheus()
    regions = set(ctx.config.regions)

    def observe() -> Look:
        result = prometheus.query(exp.query)
        problems = []
        if not result:
            problems.append("the query returned no series")
        if exp.every_region and result:
            seen = {s["metric"].get(exp.region_label) for s in result}
            missing = sorted(regions - seen)
            if missing:
                problems.append(
                    f"no series for region(s) {', '.join(missing)} "
                    f"(label {exp.region_label}; found {sorted(r for r in seen if r)})"
                )
        for label in exp.labels:
            lacking = [s["metric"] for s in result if not s["metric"].get(label)]
            if lacking:
                problems.append(f"{len(lacking)} series lack label {label!r}, e.g. {lacking[0]}")
        for s in result:
            value = float(s["value"][1])
            if (exp.min is not None and value < exp.min) or (
                exp.max is not None and value > exp.max
            ):
                problems.append(f"value {value:g} of {s['metric']} outside [{exp.min}, {exp.max}]")
                break
        return Look(done=not problems, problem="; ".join(problems), observed=result)

    polled = poll(observe, ctx.wait_for_due(exp.budget))
    look = polled.look
    return Outcome(
        passed=look.done,
        summary=look.problem or f"{len(look.observed)} series as expected",
        query=f"{exp.query}  ({prometheus.last_request})",
        observed=_series_text(look.observed),
        waited=polled.waited,
    )


def _expected_counts(exp: MetricExpectation, ctx: Context) -> tuple[Counter[str], float, float]:
    """Per region: how many the ledger says; and the window those were done in."""
    counts: Counter[str] = Counter()
    times: list[float] = []
    if exp.increase_equals == "probes":
        for probe in ctx.probes(exp.check):
            if probe.field("outcome") == "success":
                counts[probe.field("region")] += 1
                times += [probe.field("start"), probe.field("end")]
    else:
        for load in (e for e in ctx.entries if e.kind == "load"):
            total = sum(
                sum(by_status.values()) for by_status in (load.field("requests") or {}).values()
            )
            counts[load.field("region")] += total
            times += [load.field("start"), load.field("end")]
    return counts, min(times, default=0.0), max(times, default=0.0)


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


def _first_reached(
    prometheus: PrometheusClient,
    promql: str,
    label: str,
    targets: dict[str, float],
    start: float,
    end: float,
) -> float | None:
    """The time of the first sample at which every region's series reached its target (the
    arrival Prometheus recorded, to one step), or None if one never did."""
    step = max(1.0, (end - start) / 1000)
    reached: list[float] = []
    series = {
        s["metric"].get(label, ""): s["values"]
        for s in prometheus.query_range(promql, start, end, step)
    }
    for region, target in targets.items():
        first = next((float(t) for t, v in series.get(region, []) if float(v) >= target), None)
        if first is None:
            return None
        reached.append(first)
    return max(reached, default=None)


def _by_region(result: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {s["metric"].get(label, ""): float(s["value"][1]) for s in result}


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
    counts = Counter({r: n for r, n in counts.items() if r not in left_out})
    if not counts:
        return Outcome.nothing_to_judge(_nothing_counted(exp, excluded))
    prometheus = ctx.backends.prometheus()
    note = f" (not counted: {_excluded_text(excluded)})" if left_out else ""
    promql = f"sum by ({exp.region_label}) ({exp.query})"
    before = _by_region(prometheus.query(promql, time=start - 0.001), exp.region_label)
    baseline_request = prometheus.last_request

    def observe() -> Look:
        at = min(time.time(), end + exp.budget)
        after = _by_region(prometheus.query(promql, time=at), exp.region_label)
        increase = {r: after.get(r, 0.0) - before.get(r, 0.0) for r in counts}
        wrong = {
            r: (increase[r], n) for r, n in counts.items() if abs(increase[r] - n) > exp.tolerance
        }
        problem = "; ".join(
            f"{r}: counter rose by {got:g}, the ledger recorded {want}"
            for r, (got, want) in sorted(wrong.items())
        )
        return Look(done=not wrong, problem=problem, observed={"increase": increase})

    polled = poll(observe, ctx.wait_for_due(exp.budget))
    look = polled.look
    arrived = None
    problem = look.problem
    if look.done:
        targets = {r: before.get(r, 0.0) + n - exp.tolerance for r, n in counts.items()}
        first = _first_reached(prometheus, promql, exp.region_label, targets, start, polled.seen_at)
        arrived = None if first is None else max(0.0, first - end)
        problem = late("the counted increase", arrived, exp.budget) if arrived else ""
    return Outcome(
        passed=look.done and not problem,
        summary=(
            problem
            or f"increase matches the ledger for {len(counts)} region(s) (±{exp.tolerance:g})"
        )
        + note,
        query=f"{promql} at window start {start:.3f} ({baseline_request}) and at its end "
        f"({prometheus.last_request})",
        observed=json.dumps({**look.observed, "expected": dict(counts), "baseline": before}),
        waited=polled.waited,
        time_to_appear=arrived,
    )
