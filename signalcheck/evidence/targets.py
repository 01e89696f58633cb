"""Scrape health and identity: every target of a job is up (one per configured region),
and every series of the job carries the identity labels the rules group by (a target that
lost its `region` label silently drops out of every per-region alert)."""

from __future__ import annotations

import json

from signalcheck.backends.prometheus import PrometheusClient, Target
from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import TargetsExpectation

MAX_LISTED = 3


def _target_problems(
    exp: TargetsExpectation, targets: list[Target], regions: set[str]
) -> list[str]:
    if not targets:
        return [f"Prometheus has no active target of job {exp.job!r}"]
    problems = []
    for target in targets:
        labels = target["labels"]
        if target["health"] != "up":
            problems.append(
                f"target {labels.get('instance')} ({exp.region_label}="
                f"{labels.get(exp.region_label, '?')}) is {target['health']}: "
                f"{target.get('lastError') or 'no error given'}"
            )
        lacking = [label for label in exp.identity_labels if not labels.get(label)]
        if lacking:
            problems.append(f"target {labels.get('instance')} has no label(s) {lacking}")
    if exp.every_region:
        up = {t["labels"].get(exp.region_label) for t in targets if t["health"] == "up"}
        missing = sorted(regions - up)
        if missing:
            problems.append(f"no target up for region(s) {', '.join(missing)}")
    return problems


def _unlabelled(prometheus: PrometheusClient, exp: TargetsExpectation) -> list[str]:
    """Series of the job without an identity label, as 'label: metric names'."""
    problems = []
    for label in exp.identity_labels:
        result = prometheus.query(f'count by (__name__) ({{job="{exp.job}", {label}=""}})')
        names = sorted(s["metric"].get("__name__", "?") for s in result)
        if names:
            shown = ", ".join(names[:MAX_LISTED]) + (" ..." if len(names) > MAX_LISTED else "")
            problems.append(
                f"{len(names)} metric(s) of job {exp.job} have series without label "
                f"{label!r} (e.g. {shown}): the rules grouping by {label} cannot see them"
            )
    return problems


def check_targets(exp: TargetsExpectation, ctx: Context) -> Outcome:
    prometheus = ctx.backends.prometheus()
    regions = set(ctx.config.regions)
    requests: list[str] = []

    def observe() -> Look:
        targets = [t for t in prometheus.targets() if t["labels"].get("job") == exp.job]
        requests[:] = [prometheus.last_request]
        problems = _target_problems(exp, targets, regions) + _unlabelled(prometheus, exp)
        requests.append(prometheus.last_request)
        return Look(done=not problems, problem="; ".join(problems), observed=targets)

    polled = poll(observe, ctx.wait_for_due(exp.budget))
    look = polled.look
    shown = [
        {**t["labels"], "health": t["health"], "lastError": t.get("lastError", "")}
        for t in look.observed
    ]
    return Outcome(
        passed=look.done,
        summary=look.problem
        or f"{len(look.observed)} target(s) of job {exp.job} up, every series with "
        f"{exp.identity_labels}",
        query=" and ".join(requests),
        observed=json.dumps(shown),
        waited=polled.waited,
    )
