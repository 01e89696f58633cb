"""Probe results expectation: every region's results reached Prometheus, each through its own
Pushgateway group (`probe --once`) or the daemon's /metrics (`probe --serve`).

For every (check, region) of the ledger's probe entries (failed runs too: a probe that could
not connect still exports its 0), the latest run is judged: Prometheus must now hold
`last_run_metric` at (or, from a later run, after) that run's end, must have scraped a sample
equal to that end (±1 ms), and `success_metric` of that same scrape must equal the run's
outcome. A push another region's push overwrote leaves no series; a stale push an older end.

Timing is measured: the arrival is the timestamp Prometheus gave the first raw sample of
`last_run_metric` equal to the run's end (the scrape that brought the result in), minus the
moment the result became scrapeable: the ledger's `push` entry of its region and check after
that end (`probe --once` pushes a pass when its last check ends, so a fast check waits for
the slowest before it leaves), else the end itself (the daemon's /metrics has it at once).
The same record exists for a push and for the daemon, which Pushgateway's
`push_time_seconds` would not cover.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from signalcheck.backends.prometheus import Sample
from signalcheck.evidence.context import Context, no_probe_reached
from signalcheck.evidence.outcome import Outcome, late
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import ProbeResultsExpectation
from signalcheck.ledger import Entry

END_TOLERANCE = 0.001
"""Seconds: the exported end time is the ledger's `end` (probes/metrics.py), as a float."""
CLOCK_SLACK = 5.0
"""Seconds before a run's end still searched for its sample (probe host vs. Prometheus clock)."""
IGNORED_LABELS = frozenset({"__name__", "check_type"})
"""Labels by which the success and last-run series of one result differ."""

Pair = tuple[str, str]
"""(check, region)"""


@dataclass(frozen=True)
class Found:
    """What Prometheus holds for one (check, region): arrival seconds, or the problem."""

    arrival: float | None = None
    problem: str = ""


def latest_runs(entries: list[Entry], check: str | None) -> dict[Pair, list[Entry]]:
    """(check, region) -> its probe entries (every outcome), latest `end` last."""
    runs: dict[Pair, list[Entry]] = {}
    for e in entries:
        if e.kind == "probe" and (check is None or e.field("check") == check):
            runs.setdefault((e.field("check"), e.field("region")), []).append(e)
    return {pair: sorted(found, key=lambda e: e.field("end")) for pair, found in runs.items()}


def exported_at(runs: dict[Pair, list[Entry]], entries: Sequence[Entry]) -> dict[Pair, float]:
    """When each pair's latest run became scrapeable: the first `push` entry of its region and
    check written after the run's end, else that end (the daemon's /metrics has it at once)."""
    pushes = [e for e in entries if e.kind == "push"]
    exported = {}
    for (check, region), found in runs.items():
        end = float(found[-1].field("end"))
        exported[(check, region)] = min(
            (
                p.ts
                for p in pushes
                if p.field("region") == region and check in p.field("checks", []) and p.ts >= end
            ),
            default=end,
        )
    return exported


def judge(
    exp: ProbeResultsExpectation,
    runs: dict[Pair, list[Entry]],
    now: list[Sample],
    last_runs: list[Sample],
    successes: list[Sample],
    exported: Mapping[Pair, float] | None = None,
) -> dict[Pair, Found]:
    """Judge each pair's latest run against the current `last_run_metric` series (`now`,
    an instant vector) and the raw samples of both metrics (`last_runs`, `successes`:
    range vectors covering the runs' ends); arrivals count from `exported` (`exported_at`;
    default: the runs' ends)."""
    exported = exported or {}
    return {
        pair: _judge_pair(exp, pair, entries, now, last_runs, successes, exported.get(pair))
        for pair, entries in sorted(runs.items(), key=lambda item: (item[0][1], item[0][0]))
    }


def _judge_pair(
    exp: ProbeResultsExpectation,
    pair: Pair,
    entries: list[Entry],
    now: list[Sample],
    last_runs: list[Sample],
    successes: list[Sample],
    exported: float | None,
) -> Found:
    check, region = pair
    run = entries[-1]
    end, outcome = float(run.field("end")), run.field("outcome")
    name = f"{region} {check}"

    def mine(series: Sample) -> bool:
        labels = series["metric"]
        return labels.get(exp.check_label) == check and labels.get(exp.region_label) == region

    current = [float(s["value"][1]) for s in now if mine(s)]
    if not current:
        return Found(
            problem=f"{name}: no {exp.last_run_metric} series — was the region's push "
            "overwritten? (Pushgateway grouping), or its results never pushed or scraped"
        )
    held = max(current)
    if held < end - END_TOLERANCE:
        earlier = [e for e in entries[:-1] if abs(e.field("end") - held) <= END_TOLERANCE]
        whose = (
            "an earlier run of this ledger: its latest run was not exported"
            if earlier
            else "not a run of this ledger: a stale push"
        )
        return Found(
            problem=f"{name}: Prometheus holds last run {held:.3f}, {end - held:.1f}s before "
            f"the ledger's latest run ended ({end:.3f}) — {whose}"
        )
    match = _first_sample(last_runs, mine, lambda v: abs(v - end) <= END_TOLERANCE)
    if match is None:
        return Found(
            problem=f"{name}: Prometheus never scraped this run's end {end:.3f} (it holds "
            f"{held:.3f}: overwritten by a later run before a scrape)"
        )
    labels, at = match
    want = 1.0 if outcome == "success" else 0.0
    got = _value_at(successes, labels, at)
    if got is None:
        return Found(problem=f"{name}: no {exp.success_metric} sample in the scrape at {at:.3f}")
    if got != want:
        return Found(
            problem=f"{name}: {exp.success_metric} is {got:g}, the ledger's latest run was a "
            f"{outcome} (want {want:g})"
        )
    return Found(arrival=max(0.0, at - (end if exported is None else exported)))


def _key(labels: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset((k, v) for k, v in labels.items() if k not in IGNORED_LABELS)


def _first_sample(
    matrix: list[Sample], mine: Callable[[Sample], bool], wanted: Callable[[float], bool]
) -> tuple[dict[str, str], float] | None:
    """(labels, timestamp) of the earliest raw sample of a matching series with a wanted value."""
    found: tuple[dict[str, str], float] | None = None
    for series in matrix:
        if not mine(series):
            continue
        for t, v in series.get("values", []):
            if wanted(float(v)) and (found is None or float(t) < found[1]):
                found = (series["metric"], float(t))
                break
    return found


def _value_at(matrix: list[Sample], labels: dict[str, str], at: float) -> float | None:
    """The value a series of the same result (labels but name/check_type) had at `at`."""
    key = _key(labels)
    for series in matrix:
        if _key(series["metric"]) == key:
            for t, v in series.get("values", []):
                if abs(float(t) - at) < END_TOLERANCE:
                    return float(v)
    return None


def check_probe_results(exp: ProbeResultsExpectation, ctx: Context) -> Outcome:
    runs = latest_runs(ctx.entries, exp.check)
    if not runs:
        return Outcome.nothing_to_judge(no_probe_reached(exp.check))
    prometheus = ctx.backends.prometheus()
    matcher = f"{{{exp.check_label}={json.dumps(exp.check)}}}" if exp.check else ""
    ends = [float(entries[-1].field("end")) for entries in runs.values()]
    exported = exported_at(runs, ctx.entries)
    queries: list[str] = []

    def observe() -> Look:
        at = time.time()
        window = max(1, math.ceil(at - min(ends) + CLOCK_SLACK))
        asked = [
            f"{exp.last_run_metric}{matcher}",
            f"{exp.last_run_metric}{matcher}[{window}s]",
            f"{exp.success_metric}{matcher}[{window}s]",
        ]
        now, last_runs, successes = (prometheus.query(q, time=at) for q in asked)
        queries[:] = [f"{q} (at {at:.3f})" for q in asked]
        found = judge(exp, runs, now, last_runs, successes, exported)
        problems = [f.problem for f in found.values() if f.problem]
        return Look(done=not problems, problem="; ".join(problems), observed=found)

    # After the latest export's budget anything new would be late: wait no longer than that.
    polled = poll(observe, ctx.wait_for_due(exp.budget, after=max(exported.values())))
    found: dict[Pair, Found] = polled.look.observed
    observed: dict[str, dict[str, object]] = {}
    lateness: list[str] = []
    for (check, region), result in found.items():
        name, run = f"{region} {check}", runs[(check, region)][-1]
        end = float(run.field("end"))
        observed[name] = {"end": end, "outcome": run.field("outcome")}
        if exported[(check, region)] != end:
            observed[name]["pushed"] = round(exported[(check, region)], 3)
        if result.arrival is not None:
            observed[name]["arrival"] = round(result.arrival, 3)
            lateness.append(late(f"{name} result", result.arrival, exp.budget))
    arrivals = [f.arrival for f in found.values() if f.arrival is not None]
    problem = polled.look.problem or "; ".join(p for p in lateness if p)
    return Outcome(
        passed=not problem,
        summary=problem
        or f"{len(found)} (check, region) result(s) in Prometheus, each its latest run's "
        "outcome and end time",
        query=f"{'; '.join(queries)}  ({prometheus.last_request})",
        observed=json.dumps(observed),
        waited=polled.waited,
        time_to_appear=max(arrivals) if len(arrivals) == len(found) else None,
    )
