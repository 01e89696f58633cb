"""The coverage of a starter config: per alerting rule, the exercises (shipped or the user's
marked experiments) whose faults fire it through the config's alert expectations; per
exercise, the `signalcheck mutate` mutants of the live rules and routes it reaches (the
mutate derivation, nothing run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from signalcheck.config import Config
from signalcheck.mutate.coverage import Exercise, Injected
from signalcheck.mutate.derive import Sources, derive
from signalcheck.scaffold.live import LiveSystem
from signalcheck.scaffold.starter import Starter


@dataclass(frozen=True)
class Experiment:
    name: str
    source: str
    """shipped | yours"""
    injected: Injected


@dataclass(frozen=True)
class RuleCoverage:
    alert: str
    fault: str | None
    receivers: list[str] | None
    """Alertmanager's routing of the rule's static labels (None: no --alertmanager)."""
    fired_by: list[str]
    why: str
    """Why no exercise fires it ('' when one does)."""


@dataclass(frozen=True)
class ExerciseCoverage:
    experiment: str
    source: str
    faults: list[str]
    fires: list[str]
    mutants: list[str]
    """The mutants whose changed part the exercise reaches (`mutate` would judge them)."""


@dataclass(frozen=True)
class Coverage:
    expectations: int
    rules: list[RuleCoverage]
    exercises: list[ExerciseCoverage]
    mutants: int

    @property
    def covered(self) -> list[RuleCoverage]:
        return [rule for rule in self.rules if rule.fired_by]

    @property
    def uncovered(self) -> list[RuleCoverage]:
        return [rule for rule in self.rules if not rule.fired_by]

    def summary(self) -> str:
        share = f" ({len(self.covered) / len(self.rules):.0%})" if self.rules else ""
        return (
            f"{self.expectations} expectations written; {len(self.covered)} of "
            f"{len(self.rules)} alerting rules fired by an exercise{share}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "expectations": self.expectations,
            "alert_rules": len(self.rules),
            "covered": len(self.covered),
            "uncovered": [rule.alert for rule in self.uncovered],
            "rules": [asdict(rule) for rule in self.rules],
            "exercises": [asdict(exercise) for exercise in self.exercises],
            "mutants": self.mutants,
        }


def live_sources(live: LiveSystem, config: Config) -> Sources:
    """The live rules, routes and scrape jobs as `signalcheck mutate` derives from them."""
    files: dict[Path, dict[str, Any]] = {}
    for rule in live.rules:
        doc = files.setdefault(Path(rule.file), {"groups": []})
        groups = doc["groups"]
        if not groups or groups[-1]["name"] != rule.group:
            groups.append({"name": rule.group, "rules": []})
        key = "alert" if rule.kind == "alerting" else "record"
        entry: dict[str, Any] = {key: rule.name, "expr": rule.expr}
        if rule.for_seconds:
            entry["for"] = f"{round(rule.for_seconds)}s"
        if rule.labels:
            entry["labels"] = rule.labels
        groups[-1]["rules"].append(entry)
    return Sources(
        prometheus=live.prometheus_config,
        rule_files=files,
        alertmanager=live.alertmanager_config or {"route": {}},
        kept_jobs=frozenset(t.job for t in live.targets),
        alert_expectations=tuple(config.expectations.alerts),
    )


def coverage_of(
    live: LiveSystem, starter: Starter, config: Config, experiments: list[Experiment]
) -> Coverage:
    """`config`: the written config, loaded (its active alert expectations count)."""
    mutants = [m for m in derive(live_sources(live, config)) if not m.error]
    exercises, fired_by = [], {}
    for experiment in experiments:
        exercise = Exercise.of(config.expectations, [experiment.name], experiment.injected)
        fires = sorted(
            {e.alert for e in config.expectations.alerts if experiment.injected.reach(e)}
        )
        for alert in fires:
            fired_by.setdefault(alert, []).append(experiment.name)
        exercises.append(
            ExerciseCoverage(
                experiment=experiment.name,
                source=experiment.source,
                faults=sorted(experiment.injected.actions),
                fires=fires,
                mutants=[m.name for m in mutants if exercise.missing(m) is None],
            )
        )
    rules = []
    for finding in starter.alerts:
        fired = fired_by.get(finding.rule.name, [])
        why = ""
        if not fired:
            why = finding.why or (
                f"no exercise injects fault {finding.fault.kind}" if finding.fault else ""
            )
        rules.append(
            RuleCoverage(
                alert=finding.rule.name,
                fault=finding.fault.kind if finding.fault else None,
                receivers=finding.routing.receivers if finding.routing else None,
                fired_by=fired,
                why=why,
            )
        )
    written = sum(
        len(getattr(config.expectations, kind)) for kind in type(config.expectations).model_fields
    )
    return Coverage(written, rules, exercises, len(mutants))
