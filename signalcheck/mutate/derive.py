"""Mutants of the config in use, one change each: per alerting rule (threshold out of reach,
`for` past the expectation's budget, the region dropped from `by (...)`, its metric renamed),
per Alertmanager route (receiver swapped, matcher broken), per inhibit rule (removed) and per
scrape job the local stack keeps (removed).

Rule, route and job edits are structural (YAML load -> change -> dump); PromQL edits are
textual but robust: the threshold is put out of reach by `and on() vector(0) > 1` (empty for
any expression), a metric is renamed token-exactly, a label dropped from `by (...)` clauses
only. An edit whose target is not in the text is an error row, never a silent pass.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from signalcheck.config import Config
from signalcheck.errors import MatcherError, MutationError
from signalcheck.evidence.routing import prometheus_duration
from signalcheck.expectations import AlertExpectation
from signalcheck.mutate import matchers
from signalcheck.mutate.matchers import BROKEN_SUFFIX
from signalcheck.stack.render import (
    alertmanager_source,
    configured_rule_files,
    local_static_targets,
    prometheus_source,
)

Document = dict[str, Any]
DEFAULT_REGION_LABEL = "region"
FOR_MARGIN = 60.0
"""Seconds past the expectation's budget the `for` mutant waits (so it cannot fire in time)."""
UNEXPECTED_FOR = 3600.0
"""The `for` of a rule that no alert expectation budgets."""

_PROMQL_WORDS = frozenset(
    [
        "and",
        "or",
        "unless",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "inf",
        "nan",
    ]
)
_IDENT = re.compile(r"(?<![\w:.$])([A-Za-z_:][A-Za-z0-9_:]*)")
_BY_CLAUSE = re.compile(r"\b(by|without)\s*\(([^)]*)\)")


@dataclass(frozen=True)
class Mutant:
    name: str
    """Unique and URL-safe (it is the shadow's webhook path), e.g. `HighErrorRate.threshold`."""
    kind: str
    """threshold | for | grouping | metric | receiver | matcher | inhibit | scrape-job"""
    part: str
    """The part of the config it changes, e.g. 'alerting rule HighErrorRate (x.yml)'."""
    change: str
    alerts: frozenset[str] = frozenset()
    """The alerts whose firing or delivery the change alters (inhibit: the inhibited ones)."""
    inhibitors: frozenset[str] = frozenset()
    """For an inhibit rule: the alerts that inhibit."""
    rule_files: dict[str, str] = field(default_factory=dict)
    """Rule file name -> its mutated text (only the file it changes)."""
    alertmanager: Document | None = None
    prometheus: Document | None = None
    error: str = ""


@dataclass(frozen=True)
class Sources:
    """The config in use, as the local stack renders it."""

    prometheus: Document
    rule_files: dict[Path, Document]
    alertmanager: Document
    kept_jobs: frozenset[str]
    """The scrape jobs the local rendering keeps (the others have no local target)."""
    alert_expectations: tuple[AlertExpectation, ...]

    def rules(self) -> list[tuple[Path, Document]]:
        """(file, rule) of every alerting rule, in file order."""
        return [
            (path, rule)
            for path, doc in self.rule_files.items()
            for group in doc.get("groups") or []
            for rule in group.get("rules") or []
            if "alert" in rule
        ]

    def alert_labels(self) -> dict[str, dict[str, str]]:
        """Alert name -> its static labels (with alertname), as routing sees them."""
        return {
            str(rule["alert"]): {
                **{k: str(v) for k, v in (rule.get("labels") or {}).items()},
                "alertname": str(rule["alert"]),
            }
            for _, rule in self.rules()
        }


def load_sources(config: Config) -> Sources:
    """The rule files and Alertmanager config the local stack of `config` loads (the user's
    own when `stack.rule_files` / `stack.alertmanager_config` name them)."""
    prometheus = prometheus_source(config)
    kept = {config.stack.scrape.job, *local_static_targets(config)}
    return Sources(
        prometheus=prometheus,
        rule_files={
            p: yaml.safe_load(p.read_text()) for p in configured_rule_files(config, prometheus)
        },
        alertmanager=alertmanager_source(config),
        kept_jobs=frozenset(
            job["job_name"]
            for job in prometheus.get("scrape_configs") or []
            if job["job_name"] in kept
        ),
        alert_expectations=tuple(config.expectations.alerts),
    )


def derive(sources: Sources) -> list[Mutant]:
    """Every mutant of `sources`, rules first, then routes, inhibit rules and scrape jobs."""
    mutants: list[Mutant] = []
    for path, rule in sources.rules():
        for kind in RULE_KINDS:
            expr = str(rule.get("expr", ""))
            if kind == "grouping" and not _BY_CLAUSE.search(expr):
                continue  # nothing grouped: no label to drop
            if kind == "metric" and first_metric(expr) is None:
                continue  # nothing selected (a heartbeat's `vector(1)`): no metric to rename
            mutants.append(rule_mutant(sources, path, str(rule["alert"]), kind))
    mutants += route_mutants(sources)
    mutants += inhibit_mutants(sources)
    mutants += [scrape_job_mutant(sources, job) for job in sorted(sources.kept_jobs)]
    return mutants


# ---------------------------------------------------------------------------- rules


def out_of_reach(expr: str) -> str:
    """The expression made empty whatever its value: `(<expr>) and on() vector(0) > 1`."""
    return f"({expr.strip()}) and on() vector(0) > 1"


def first_metric(expr: str) -> str | None:
    """The first metric name an expression selects (not a function, keyword or label)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = _BY_CLAUSE.sub(" ", text)
    text = re.sub(r"\b(on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    for found in _IDENT.finditer(text):
        name = found.group(1)
        rest = text[found.end() :].lstrip()
        if name not in _PROMQL_WORDS and not rest.startswith("("):
            return name
    return None


def rename_metric(expr: str, metric: str) -> str:
    """Every selection of `metric` renamed to `<metric>-mutated`'s valid form."""
    renamed, count = re.subn(
        rf"(?<![\w:]){re.escape(metric)}(?![\w:])",
        f"{metric}{BROKEN_SUFFIX.replace('-', '_')}",
        expr,
    )
    if not count:
        raise MutationError(f"metric {metric!r} not in the expression")
    return renamed


def drop_grouping_label(expr: str, label: str) -> tuple[str, str]:
    """Drop `label` from every `by (...)` clause that has it (else the first clause's first
    label); returns the new expression and the label dropped."""
    clauses = [m for m in _BY_CLAUSE.finditer(expr) if m.group(1) == "by"]
    if not clauses:
        raise MutationError("no `by (...)` clause in the expression")
    labels_of = [[x.strip() for x in m.group(2).split(",") if x.strip()] for m in clauses]
    if not any(label in labels for labels in labels_of):
        label = labels_of[0][0] if labels_of[0] else ""
    if not label:
        raise MutationError("the `by (...)` clause groups by no label")

    def drop(match: re.Match[str]) -> str:
        kept = [x.strip() for x in match.group(2).split(",") if x.strip() and x.strip() != label]
        return f"{match.group(1)} ({', '.join(kept)})" if match.group(1) == "by" else match.group(0)

    return _BY_CLAUSE.sub(drop, expr), label


def _budget(sources: Sources, alert: str) -> float | None:
    budgets = [e.budget for e in sources.alert_expectations if e.alert == alert]
    return max(budgets) if budgets else None


def _region_label(sources: Sources, alert: str) -> str:
    return next(
        (e.region_label for e in sources.alert_expectations if e.alert == alert),
        DEFAULT_REGION_LABEL,
    )


def _seconds_text(value: float) -> str:
    return f"{round(value)}s"


RuleEdit = Callable[[Sources, Document], str]


def _edit_threshold(_: Sources, rule: Document) -> str:
    rule["expr"] = out_of_reach(str(rule["expr"]))
    return "threshold out of reach: `(<expr>) and on() vector(0) > 1`"


def _edit_for(sources: Sources, rule: Document) -> str:
    alert = str(rule["alert"])
    budget = _budget(sources, alert)
    old = prometheus_duration(str(rule.get("for", "0s"))) if rule.get("for") else 0.0
    new = max(old * 2, UNEXPECTED_FOR if budget is None else budget + FOR_MARGIN)
    rule["for"] = _seconds_text(new)
    limit = "no expectation's budget" if budget is None else f"the {budget:g}s budget"
    return f"`for` {rule.get('for')} (was {_seconds_text(old)}), past {limit}"


def _edit_grouping(sources: Sources, rule: Document) -> str:
    expr, label = drop_grouping_label(str(rule["expr"]), _region_label(sources, str(rule["alert"])))
    rule["expr"] = expr
    return f"label {label!r} dropped from `by (...)`"


def _edit_metric(_: Sources, rule: Document) -> str:
    expr = str(rule["expr"])
    metric = first_metric(expr)
    if metric is None:
        raise MutationError("the expression selects no metric")
    rule["expr"] = rename_metric(expr, metric)
    return f"metric {metric} renamed"


RULE_KINDS: dict[str, RuleEdit] = {
    "threshold": _edit_threshold,
    "for": _edit_for,
    "grouping": _edit_grouping,
    "metric": _edit_metric,
}


def rule_mutant(sources: Sources, path: Path, alert: str, kind: str) -> Mutant:
    """The `kind` mutant of alerting rule `alert` in rule file `path`."""
    name, part = f"{alert}.{kind}", f"alerting rule {alert} ({path.name})"
    doc = copy.deepcopy(sources.rule_files.get(path) or {})
    rules = [
        rule
        for group in doc.get("groups") or []
        for rule in group.get("rules") or []
        if rule.get("alert") == alert
    ]
    base = Mutant(name, kind, part, "", alerts=frozenset({alert}))
    if len(rules) != 1:
        return _error(base, f"{path.name} has {len(rules)} alerting rules named {alert}")
    try:
        change = RULE_KINDS[kind](sources, rules[0])
    except MutationError as exc:
        return _error(base, str(exc))
    text = yaml.safe_dump(doc, sort_keys=False)
    return replace(base, change=change, rule_files={path.name: text})


# ---------------------------------------------------------------------------- routes


def _routes(route: Document, at: str = "") -> list[tuple[str, Document]]:
    """(index path like '1' or '1.2', route) of every child route, depth first."""
    found = []
    for n, child in enumerate(route.get("routes") or [], start=1):
        here = f"{at}.{n}" if at else str(n)
        found.append((here, child))
        found += _routes(child, here)
    return found


def _route_at(doc: Document, at: str) -> Document:
    route = doc["route"]
    for n in at.split(".") if at else []:
        route = route["routes"][int(n) - 1]
    return route


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def routed_alerts(sources: Sources, at: str) -> frozenset[str]:
    """Alerts (by their static labels) that routing delivers through route `at` ('' = the
    root's own receiver): the first matching child route wins (no `continue`)."""
    root = sources.alertmanager["route"]

    def destination(labels: dict[str, str], route: Document, here: str) -> str:
        for n, child in enumerate(route.get("routes") or [], start=1):
            path = f"{here}.{n}" if here else str(n)
            if matchers.all_match(matchers.of_route(child), labels):
                return destination(labels, child, path)
        return here

    return frozenset(
        alert
        for alert, labels in sources.alert_labels().items()
        if destination(labels, root, "") == at
    )


def route_mutants(sources: Sources) -> list[Mutant]:
    receivers = [str(r["name"]) for r in sources.alertmanager.get("receivers") or []]
    root = sources.alertmanager["route"]
    mutants = [_receiver_swap(sources, "", root, receivers)]
    for at, route in _routes(root):
        mutants.append(_receiver_swap(sources, at, route, receivers))
        mutants.append(_matcher_broken(sources, at, route))
    return mutants


def _route_name(at: str, route: Document) -> tuple[str, str]:
    receiver = str(route.get("receiver", "(inherited)"))
    if not at:
        return f"route.root-{_slug(receiver)}", f"root route (-> {receiver})"
    shown = ", ".join(m.text() for m in matchers.of_route(route)) if _parses(route) else "?"
    return f"route.{at}-{_slug(receiver)}", f"route {at} ({shown} -> {receiver})"


def _parses(route: Document) -> bool:
    try:
        matchers.of_route(route)
    except MatcherError:
        return False
    return True


def _receiver_swap(sources: Sources, at: str, route: Document, receivers: list[str]) -> Mutant:
    name, part = _route_name(at, route)
    base = Mutant(f"{name}.receiver", "receiver", part, "", alerts=routed_alerts(sources, at))
    current = route.get("receiver")
    root_receiver = sources.alertmanager["route"].get("receiver")
    others = [r for r in receivers if r != current]
    if current is None:
        return _error(base, "the route names no receiver of its own")
    if not others:
        return _error(base, "no other receiver to swap to")
    swapped = root_receiver if root_receiver in others else others[0]
    doc = copy.deepcopy(sources.alertmanager)
    _route_at(doc, at)["receiver"] = swapped
    return replace(base, change=f"receiver {current} -> {swapped}", alertmanager=doc)


def _matcher_broken(sources: Sources, at: str, route: Document) -> Mutant:
    name, part = _route_name(at, route)
    base = Mutant(f"{name}.matcher", "matcher", part, "", alerts=routed_alerts(sources, at))
    doc = copy.deepcopy(sources.alertmanager)
    target = _route_at(doc, at)
    try:
        if target.get("matchers"):
            old = matchers.parse(str(target["matchers"][0]))
            new = matchers.Matcher(old.name, old.op, old.value + BROKEN_SUFFIX)
            target["matchers"][0] = new.text()
        elif target.get("match") or target.get("match_re"):
            key = "match" if target.get("match") else "match_re"
            label = next(iter(target[key]))
            old = matchers.Matcher(label, "=" if key == "match" else "=~", str(target[key][label]))
            new = matchers.Matcher(old.name, old.op, old.value + BROKEN_SUFFIX)
            target[key][label] = new.value
        else:
            return _error(base, "the route has no matcher")
    except MatcherError as exc:
        return _error(base, str(exc))
    return replace(base, change=f"matcher {old.text()} -> {new.text()}", alertmanager=doc)


# ----------------------------------------------------------------- inhibit, scrape jobs


def inhibit_mutants(sources: Sources) -> list[Mutant]:
    mutants = []
    labels = sources.alert_labels()
    for n, rule in enumerate(sources.alertmanager.get("inhibit_rules") or [], start=1):
        base = Mutant(f"inhibit.{n}", "inhibit", f"inhibit rule {n}", "")
        try:
            source = matchers.of_route(rule, "source_matchers")
            target = matchers.of_route(rule, "target_matchers")
        except MatcherError as exc:
            mutants.append(_error(base, str(exc)))
            continue
        doc = copy.deepcopy(sources.alertmanager)
        del doc["inhibit_rules"][n - 1]
        inhibitors = frozenset(a for a, ls in labels.items() if matchers.all_match(source, ls))
        inhibited = frozenset(a for a, ls in labels.items() if matchers.all_match(target, ls))
        shown = ", ".join(m.text() for m in source)
        mutants.append(
            replace(
                base,
                part=f"inhibit rule {n} ({shown} mutes {', '.join(sorted(inhibited))})",
                change="removed",
                alerts=inhibited,
                inhibitors=inhibitors,
                alertmanager=doc,
            )
        )
    return mutants


def scrape_job_mutant(sources: Sources, job: str) -> Mutant:
    base = Mutant(f"scrape.{_slug(job)}", "scrape-job", f"scrape job {job}", "")
    doc = copy.deepcopy(sources.prometheus)
    jobs = doc.get("scrape_configs") or []
    kept = [j for j in jobs if j.get("job_name") != job]
    if len(kept) == len(jobs):
        return _error(base, f"prometheus.yml has no scrape job {job!r}")
    doc["scrape_configs"] = kept
    return replace(base, change="removed", prometheus=doc)


def _error(base: Mutant, problem: str) -> Mutant:
    return replace(base, error=f"cannot apply: {problem}")
