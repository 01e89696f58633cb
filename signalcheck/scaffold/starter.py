"""The config entries a live system shows: its regions (the region label's values on the
targets), a check of the scrape path Prometheus reads successfully, a `targets` expectation
per job, one alert expectation per alerting rule (receiver routed as Alertmanager does, fault
kind where the expression shows one), the rules' metric names, and cardinality budgets.

Only what the live system shows is written; an entry that needs the user (an alert with no
fault kind, a job whose target is down today) is written commented out, saying why."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from signalcheck.errors import ConfigError
from signalcheck.scaffold.expressions import (
    ExpressionError,
    Fault,
    fault_of,
    grouping_labels,
    keeps_label,
)
from signalcheck.scaffold.live import LiveSystem, Rule, Target
from signalcheck.scaffold.routing import Routing, route_alert

SECTIONS = ("regions", "allowlist", "checks", "targets", "cardinality", "rules", "alerts")
"""The sections `init` writes entries into (and `--update` adds to), in file order."""
EXPECTATION_SECTIONS = frozenset({"targets", "cardinality", "rules", "alerts"})
LOOPBACK = ("127.0.0.1", "localhost")
TARGETS_BUDGET = 15.0
RULES_BUDGET = 15.0
CARDINALITY_BUDGET = 15.0
ALERT_MARGIN = 60.0
"""Seconds an alert expectation's budget adds to the rule's `for`."""
ALERT_MIN_BUDGET = 90.0
RESOLVE_BUDGET = 120.0
NEEDS_EXERCISE = "needs an exercise: mark one of your actions as a fault"


@dataclass(frozen=True)
class Entry:
    section: str
    """One of SECTIONS."""
    name: str
    """Unique within the section: a region's name, a host, a check's or expectation's name."""
    value: Any
    comment: str = ""
    disabled: bool = False
    """Written commented out: it needs the user first (`comment` says why)."""


@dataclass(frozen=True)
class AlertFinding:
    """What init found for one alerting rule."""

    rule: Rule
    fault: Fault | None
    why: str
    """Why no alert expectation is active for it ('' when one is)."""
    routing: Routing | None
    receiver: str | None
    expectation: str


@dataclass
class Starter:
    region_label: str
    service_job: str
    entries: list[Entry] = field(default_factory=list)
    alerts: list[AlertFinding] = field(default_factory=list)

    def section(self, name: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.section == name]


def slug(text: str) -> str:
    """`text` as an expectation name: letters, digits, _, . and -, kebab-cased."""
    kebab = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", text).lower()
    return re.sub(r"[^a-z0-9_.-]+", "-", kebab).strip("-._") or "x"


def headroom(today: int) -> int:
    """A budget for a count that is `today` now: double it, and at least ten more."""
    return max(2 * today, today + 10)


def regions_of(live: LiveSystem, label: str) -> dict[str, list[Target]]:
    """Region (a value of `label`) -> its targets; a ConfigError when no target carries it."""
    regions: dict[str, list[Target]] = {}
    for target in live.targets:
        if target.labels.get(label):
            regions.setdefault(target.labels[label], []).append(target)
    if not regions:
        seen = sorted({k for t in live.targets for k in t.labels} - {"job", "instance"})
        raise ConfigError(
            f"--region-label {label}: no target of {live.prometheus_url} carries it (their "
            f"labels: {', '.join(seen) or 'only job and instance'}); name the label that "
            "tells your regions apart"
        )
    return dict(sorted(regions.items()))


def derive_starter(live: LiveSystem, region_label: str) -> Starter:
    regions = regions_of(live, region_label)
    jobs_in = {
        job: sum(any(t.job == job for t in ts) for ts in regions.values())
        for job in sorted({t.job for ts in regions.values() for t in ts})
    }
    service_job = max(jobs_in, key=lambda job: jobs_in[job])  # the first of the most regions
    starter = Starter(region_label=region_label, service_job=service_job)
    starter.entries += _regions(regions, service_job)
    starter.entries += _checks(regions, service_job)
    starter.entries += _targets(live, regions, region_label)
    starter.entries += _cardinality(live)
    starter.entries += _rules(live)
    for rule in live.alert_rules:
        finding, entry = _alert(live, rule, region_label, starter)
        starter.alerts.append(finding)
        starter.entries.append(entry)
    return starter


def _service_target(targets: list[Target], job: str) -> Target:
    return next((t for t in targets if t.job == job), targets[0])


def _regions(regions: dict[str, list[Target]], service_job: str) -> list[Entry]:
    entries = []
    hosts: dict[str, None] = dict.fromkeys(LOOPBACK)
    for name, targets in regions.items():
        target = _service_target(targets, service_job)
        value: dict[str, str] = {"base_url": target.address}
        if target.metrics_path != "/metrics":
            value["metrics_url"] = target.scrape_url
        jobs = ", ".join(sorted({t.job for t in targets}))
        comment = (
            f"jobs {jobs}; base_url: where Prometheus scrapes job {target.job} (replace it "
            "with where the service answers, if that differs)"
        )
        entries.append(Entry("regions", name, value, comment))
        hosts[_host(target.address)] = None
    entries += [Entry("allowlist", host, host) for host in hosts]
    return entries


def _host(address: str) -> str:
    return address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")


def _checks(regions: dict[str, list[Target]], service_job: str) -> list[Entry]:
    served = [_service_target(ts, service_job) for ts in regions.values()]
    paths = {t.metrics_path for t in served}
    if len(paths) != 1 or any(t.job != service_job for t in served):
        return []
    path = paths.pop()
    return [
        Entry(
            "checks",
            f"{slug(service_job)}-metrics",
            {
                "name": f"{slug(service_job)}-metrics",
                "type": "http",
                "path": path,
                "expect": {"status": [200]},
            },
            f"the path Prometheus scrapes on job {service_job} in every region: add checks of "
            "your service's own routes",
        )
    ]


def _targets(live: LiveSystem, regions: dict[str, list[Target]], label: str) -> list[Entry]:
    grouped = {name for rule in live.rules for name in grouping_labels(rule.expr)}
    entries = []
    for job in sorted({t.job for t in live.targets}):
        targets = [t for t in live.targets if t.job == job]
        every_region = all(any(t.job == job for t in ts) for ts in regions.values()) and all(
            t.labels.get(label) for t in targets
        )
        on_all = set.intersection(*(set(t.labels) for t in targets))
        value: dict[str, Any] = {
            "name": f"{slug(job)}-targets-up",
            "job": job,
            "every_region": every_region,
            "identity_labels": sorted(grouped & on_all),
            "budget": TARGETS_BUDGET,
        }
        if every_region and label != "region":
            value["region_label"] = label
        down = [t for t in targets if t.health != "up"]
        comment = f"{len(targets)} target(s) today; identity labels: those the rules group by"
        if down:
            comment = (
                f"{len(down)} of {len(targets)} target(s) of job {job} are {down[0].health} "
                f"today ({down[0].labels.get('instance')}: {down[0].last_error or 'no error'})"
                ": uncomment once they are up"
            )
        entries.append(Entry("targets", value["name"], value, comment, disabled=bool(down)))
    return entries


def _cardinality(live: LiveSystem) -> list[Entry]:
    entries = []
    for name, family in live.families.items():
        value = {
            "name": f"{slug(name)}-cardinality",
            "selector": name,
            "max_series": headroom(family.series),
            "labels": {
                label: {"max_values": headroom(n)} for label, n in family.label_values.items()
            },
            "budget": CARDINALITY_BUDGET,
        }
        today = ", ".join(f"{label} {n}" for label, n in family.label_values.items())
        comment = f"today: {family.series} series; values per label: {today or 'none'}"
        entries.append(Entry("cardinality", value["name"], value, comment))
    return entries


def _rules(live: LiveSystem) -> list[Entry]:
    if not live.rules:
        return []
    absent = sorted(live.rule_metrics() - live.existing)
    value: dict[str, Any] = {"name": "rule-metrics-exist", "budget": RULES_BUDGET}
    comment = "every metric the loaded rules read exists (recording rules' outputs count)"
    if absent:
        value["ignore"] = absent
        comment += "; `ignore`: read by a rule but without a series today"
    return [Entry("rules", "rule-metrics-exist", value, comment)]


def _alert(
    live: LiveSystem, rule: Rule, region_label: str, starter: Starter
) -> tuple[AlertFinding, Entry]:
    taken = {a.expectation for a in starter.alerts}
    name, n = f"{slug(rule.name)}-fires", 2
    while name in taken:
        name, n = f"{slug(rule.name)}-fires-{n}", n + 1
    try:
        fault, why = fault_of(rule.expr, live.recorded)
        keeps = keeps_label(rule.expr, region_label)
    except ExpressionError as exc:
        fault, why, keeps = None, str(exc), False
    if fault is not None and not keeps:
        fault, why = None, f"its expression drops the region label {region_label!r}"
    routing, receiver, routed = _receiver(live, rule)
    value: dict[str, Any] = {
        "name": name,
        "conditional": True,
        "alert": rule.name,
        "fault": fault.kind if fault else "your-fault",
        "labels": rule.labels,
        "receiver": receiver,
        "budget": max(ALERT_MIN_BUDGET, math.ceil(rule.for_seconds + ALERT_MARGIN)),
        "resolve_budget": RESOLVE_BUDGET,
    }
    if region_label != "region":
        value["region_label"] = region_label
    if fault is not None and fault.needs_probes:
        value["needs_probes"] = True
    comment = f"rule {rule.name} ({rule.group}): {routed}"
    if fault is None:
        comment = f"{NEEDS_EXERCISE} (rule {rule.name}: {why}); {routed}"
    finding = AlertFinding(rule, fault, why if fault is None else "", routing, receiver, name)
    return finding, Entry("alerts", name, value, comment, disabled=fault is None)


def _may_carry(expr: str, label: str) -> bool:
    """Whether the series of `expr` may carry `label` (unparseable: assume so)."""
    try:
        return keeps_label(expr, label)
    except ExpressionError:
        return True


def _receiver(live: LiveSystem, rule: Rule) -> tuple[Routing | None, str | None, str]:
    """The routing of the rule's static labels, the one receiver to expect (None: any), and
    a sentence saying how it was found."""
    if live.alertmanager_config is None:
        return None, None, "receiver not computed (no --alertmanager)"
    labels = {**rule.labels, "alertname": rule.name}
    routing = route_alert(live.alertmanager_config["route"], labels)
    unknown = sorted(
        label for label in routing.consulted - set(labels) if _may_carry(rule.expr, label)
    )
    if unknown:
        return (
            routing,
            None,
            (
                f"its route depends on {', '.join(unknown)}, which only the firing series set "
                f"(receiver any; with static labels alone: {', '.join(routing.receivers)})"
            ),
        )
    if len(routing.receivers) > 1:
        return (
            routing,
            None,
            (
                f"routed to {', '.join(routing.receivers)} (continue); one receiver is judged, so "
                "any is accepted"
            ),
        )
    return routing, routing.receivers[0], f"routed to {routing.receivers[0]}"
