"""Rules and dashboards expectation: every metric name the loaded alert and recording rules,
extra rule files and Grafana dashboards use exists in Prometheus (a rule that reads a metric
nobody exports never fires). Recording-rule outputs count as existing.

With nothing to check it fails instead of passing: when Prometheus loaded no rules (its
`rule_files` load nothing: the very fault the check exists for) or a `rule_files` or
`dashboards` glob matches no file."""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from signalcheck.backends.prometheus import RuleGroup
from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.evidence.promql import metric_names
from signalcheck.expectations import RulesExpectation

BUILT_IN = frozenset({"ALERTS", "ALERTS_FOR_STATE"})
"""Series Prometheus writes itself, only while an alert is pending or firing."""


def _expand(patterns: list[Path], base: Path, key: str, empty: list[str]) -> list[Path]:
    """The files matching glob patterns, relative ones taken relative to `base`; a pattern
    that matches no file is added to `empty`, named with its `key`."""
    found = []
    for pattern in patterns:
        full = pattern if pattern.is_absolute() else base / pattern
        matched = sorted(Path(full.anchor).glob(str(full.relative_to(full.anchor))))
        if not matched:
            empty.append(f"{key} {str(pattern)!r} matches no file (looked for {full})")
        found.extend(matched)
    return sorted(found)


def _file_rules(path: Path) -> Iterator[tuple[str, str, str | None]]:
    """(where, expr, recorded name) of each rule in a Prometheus rule file."""
    for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            yield f"rule {name} (group {group['name']}, {path})", rule["expr"], rule.get("record")


def _loaded_rules(groups: list[RuleGroup]) -> Iterator[tuple[str, str, str | None]]:
    for group in groups:
        for rule in group["rules"]:
            recorded = rule["name"] if rule["type"] == "recording" else None
            where = f"rule {rule['name']} (group {group['name']}, {group['file']})"
            yield where, rule["query"], recorded


def _panel_exprs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for target in node.get("targets") or []:
            if isinstance(target, dict) and target.get("expr"):
                yield target["expr"]
        for key in ("panels", "rows", "dashboard"):
            yield from _panel_exprs(node.get(key))
    elif isinstance(node, list):
        for item in node:
            yield from _panel_exprs(item)


def _dashboard_queries(path: Path) -> Iterator[tuple[str, str, None]]:
    dashboard = json.loads(path.read_text())
    title = dashboard.get("title") or dashboard.get("dashboard", {}).get("title") or path.name
    for expr in _panel_exprs(dashboard):
        yield f"dashboard {title!r} ({path})", expr, None


def check_rules(exp: RulesExpectation, ctx: Context) -> Outcome:
    prometheus = ctx.backends.prometheus()
    base = (ctx.config.source or Path("signalcheck.yaml")).resolve().parent
    uses = list(_loaded_rules(prometheus.rules()))
    rules_request = prometheus.last_request
    empty = [] if uses else ["Prometheus has loaded no rules (its rule_files load nothing)"]
    # Only a recording rule Prometheus loaded writes its series: a record of a file it does
    # not load (or no longer loads) is a name someone must still export.
    recorded = {name for _, _, name in uses if name}
    for path in _expand(exp.rule_files, base, "rule_files", empty):
        uses.extend(_file_rules(path))
    for path in _expand(exp.dashboards, base, "dashboards", empty):
        uses.extend(_dashboard_queries(path))
    needed: dict[str, list[str]] = {}
    for where, expr, _ in uses:
        for name in metric_names(expr) - recorded - BUILT_IN:
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in exp.ignore):
                needed.setdefault(name, []).append(where)

    selector = "|".join(re.escape(name) for name in sorted(needed))

    def observe() -> Look:
        # Instant: a removed rule's or a lost target's series are marked stale at once, where
        # the names API would list them for the whole retention.
        query = f'count by (__name__) ({{__name__=~"{selector}"}})'
        exported = {s["metric"]["__name__"] for s in prometheus.query(query)} if needed else set()
        missing = sorted(set(needed) - exported)
        return Look(done=not missing, observed=missing, details={"exported": exported})

    polled = poll(observe, ctx.wait_for_due(exp.budget))
    missing = polled.look.observed
    exported = set(prometheus.metric_names()) if missing else set()
    problems = list(empty)
    for name in missing:
        close = difflib.get_close_matches(name, exported | recorded, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(f"{needed[name][0]} uses {name}, which no series in Prometheus has{hint}")
    return Outcome(
        passed=not problems,
        summary="; ".join(problems)
        or f"all {len(needed)} metric names of {len(uses)} rules/panels exist",
        query=f"{rules_request} and {prometheus.last_request}",
        observed=f"metric names used: {sorted(needed)}",
        waited=polled.waited,
    )
