"""The coverage table: for each mutant, caught (by which expectations), not caught (and the
expectation that is missing), not exercised (and the exercise that is missing), or an error."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from signalcheck.expectations import AlertExpectation, Expectations
from signalcheck.mutate.derive import Mutant

Status = Literal["caught", "not caught", "not exercised", "error"]


@dataclass(frozen=True)
class InjectedFault:
    action: str
    experiment: str
    """The title of the experiment that injects it."""
    probed: bool
    """A probe pass of its region follows the injection (what `needs_probes` needs)."""


@dataclass(frozen=True)
class Injected:
    """The faults an exercise's experiments inject."""

    faults: frozenset[InjectedFault]

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(f.action for f in self.faults)

    def reach(self, expectation: AlertExpectation) -> bool:
        """Whether one of the faults is one that `expectation` judges."""
        return any(
            f.action == expectation.fault
            and (f.probed or not expectation.needs_probes)
            and expectation.judges(f.experiment)
            for f in self.faults
        )


@dataclass(frozen=True)
class Exercise:
    """What one exercise reaches: the faults its experiments inject, and so the alerts (and
    inhibitions) the config's alert expectations make fire."""

    experiments: list[str]
    faults: frozenset[str]
    alerts: frozenset[str]
    """The alerts the exercise makes fire: its faults', and the heartbeats (always firing)."""
    suppressions: frozenset[tuple[str, str]]
    """(inhibited alert, inhibiting alert) of alert expectations with `suppressed_by`."""
    rules_checked: bool
    """A `rules` expectation reads every rule Prometheus loaded (so a renamed metric shows)."""

    @classmethod
    def of(cls, expectations: Expectations, experiments: list[str], injected: Injected) -> Exercise:
        exercised = [e for e in expectations.alerts if injected.reach(e)]
        return cls(
            experiments=experiments,
            faults=injected.actions,
            alerts=frozenset(e.alert for e in exercised)
            | {h.alert for h in expectations.heartbeats},  # they fire in every exercise
            suppressions=frozenset(
                (e.alert, e.suppressed_by) for e in exercised if e.suppressed_by
            ),
            rules_checked=bool(expectations.rules),
        )

    def missing(self, mutant: Mutant) -> str | None:
        """Why nothing in the exercise reaches the mutated part (None: something does)."""
        if mutant.kind == "scrape-job":
            return None  # every target is scraped throughout the exercise
        if mutant.kind == "metric" and self.rules_checked:
            return None
        if mutant.kind == "inhibit":
            if any(a in mutant.alerts and s in mutant.inhibitors for a, s in self.suppressions):
                return None
            return (
                f"no experiment makes a {'/'.join(sorted(mutant.inhibitors))}-inhibited alert "
                "fire (no alert expectation with `suppressed_by` for it)"
            )
        if mutant.alerts & self.alerts:
            return None
        if not mutant.alerts:
            return "no alerting rule is routed here"
        return (
            f"no experiment makes {', '.join(sorted(mutant.alerts))} fire (no alert expectation "
            f"ties it to one of the faults injected: {', '.join(sorted(self.faults)) or 'none'})"
        )


def survivor_hint(mutant: Mutant) -> str:
    """The expectation a mutant that was exercised but not caught is missing."""
    alerts = ", ".join(sorted(mutant.alerts)) or "its alerts"
    if mutant.kind == "scrape-job":
        job = mutant.part.removeprefix("scrape job ")
        return f"no expectation reads job {job}'s series (e.g. a `targets` expectation for it)"
    if mutant.kind in ("receiver", "matcher"):
        return f"no alert expectation checks the `receiver` of {alerts}"
    if mutant.kind == "inhibit":
        return f"no alert expectation checks that {alerts} stay suppressed"
    return f"no expectation failed: the alert expectation of {alerts} does not judge this change"


@dataclass(frozen=True)
class Row:
    mutant: str
    part: str
    change: str
    status: Status
    caught_by: list[str] = field(default_factory=list)
    why: str = ""
    """For every status but caught: the missing exercise or expectation, or the error."""


@dataclass(frozen=True)
class CoverageReport:
    experiments: list[str]
    rows: list[Row]
    baseline: list[str]
    """The real pipeline's checks that passed (the ones a shadow can fail)."""
    wall_seconds: float

    @property
    def caught(self) -> list[Row]:
        return [r for r in self.rows if r.status == "caught"]

    @property
    def passed(self) -> bool:
        return bool(self.rows) and len(self.caught) == len(self.rows)

    def summary(self) -> str:
        """'caught 14 of 17; not caught: inhibit.1 (no experiment makes ...)'."""
        head = f"caught {len(self.caught)} of {len(self.rows)}"
        others = [f"{r.mutant} ({r.status}: {r.why})" for r in self.rows if r.status != "caught"]
        return head + (f"; not caught: {'; '.join(others)}" if others else "")

    def as_dict(self) -> dict[str, object]:
        return {
            "summary": self.summary(),
            "caught": len(self.caught),
            "total": len(self.rows),
            "passed": self.passed,
            "experiments": self.experiments,
            "baseline": self.baseline,
            "wall_seconds": round(self.wall_seconds, 1),
            "mutants": [asdict(row) for row in self.rows],
        }
