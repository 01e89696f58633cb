"""Metric expectations: series exist (per region, with labels), values within bounds, and a
counter's increase over the ledger's window equals what the ledger says was done."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import MetricExpectation


def _series_text(result: list[dict[str, Any]]) -> str:
    return json.dumps(
        [{**s.get("metric", {}), "value": s.get("value", [None, None])[1]} for s in result]
    )


def check_metric(exp: MetricExpectation, ctx: Context) -> Outcome:
    prometheus: PrometheusClient = ctx.backends.client("prometheus")  # type: ignore[assignment]
    if exp.increase_equals:
        return _check_increase(exp, ctx, prometheus)
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

    polled = poll(observe, exp.budget)
    look = polled.look
    return Outcome(
        passed=look.done,
        summary=look.problem or f"{len(look.observed)} series as expected",
        query=f"{exp.query}  ({prometheus.last_request})",
        observed=_series_text(look.observed),
        waited=polled.waited,
        time_to_appear=polled.waited,
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


def _killed_regions(ctx: Context, start: float, end: float) -> set[str]:
    """Regions whose service was killed (so its counters restarted) within [start, end]."""
    return {
        f.field("region")
        for f in ctx.faults("kill")
        if f.field("start") <= end and (f.field("end") or end) >= start
    }


def _by_region(result: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {s["metric"].get(label, ""): float(s["value"][1]) for s in result}


def _check_increase(exp: MetricExpectation, ctx: Context, prometheus: PrometheusClient) -> Outcome:
    counts, start, end = _expected_counts(exp, ctx)
    restarted = _killed_regions(ctx, start, end)
    counts = Counter({r: n for r, n in counts.items() if r not in restarted})
    if not counts:
        return Outcome.skip(f"the ledger has no {exp.increase_equals} entries to count")
    note = (
        f" (not counted: {', '.join(sorted(restarted))}, killed during the window: a restarted "
        "counter loses what was not scraped yet)"
        if restarted
        else ""
    )
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

    polled = poll(observe, exp.budget)
    look = polled.look
    return Outcome(
        passed=look.done,
        summary=(
            look.problem
            or f"increase matches the ledger for {len(counts)} region(s) (±{exp.tolerance:g})"
        )
        + note,
        query=f"{promql} at window start {start:.3f} ({baseline_request}) and at its end "
        f"({prometheus.last_request})",
        observed=json.dumps({**look.observed, "expected": dict(counts), "baseline": before}),
        waited=polled.waited,
        time_to_appear=max(0.0, polled.seen_at - end),
    )
