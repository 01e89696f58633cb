"""Expectations -> verifications: each expectation paired with the checker of its kind, with a
readable id like `metrics:requests-every-region` (the test id in `pytest validation/`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from signalcheck.errors import BackendError
from signalcheck.evidence.alerts import check_alert
from signalcheck.evidence.cardinality import check_cardinality
from signalcheck.evidence.context import Context
from signalcheck.evidence.heartbeats import check_heartbeat
from signalcheck.evidence.load import check_load
from signalcheck.evidence.logs import check_logs
from signalcheck.evidence.metrics import check_metric
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.probe_results import check_probe_results
from signalcheck.evidence.quiet import check_quiet
from signalcheck.evidence.rules import check_rules
from signalcheck.evidence.rum import check_rum
from signalcheck.evidence.targets import check_targets
from signalcheck.evidence.traces import check_traces
from signalcheck.expectations import (
    AlertExpectation,
    CardinalityExpectation,
    Expectations,
    HeartbeatExpectation,
    LoadExpectation,
    LogExpectation,
    MetricExpectation,
    ProbeResultsExpectation,
    QuietExpectation,
    RulesExpectation,
    RumExpectation,
    TargetsExpectation,
    TraceExpectation,
)

Expectation = (
    MetricExpectation
    | ProbeResultsExpectation
    | TargetsExpectation
    | CardinalityExpectation
    | LoadExpectation
    | RumExpectation
    | TraceExpectation
    | LogExpectation
    | RulesExpectation
    | QuietExpectation
    | HeartbeatExpectation
    | AlertExpectation
)
"""An expectation of any kind (an item of one of `Expectations`' lists)."""

E = TypeVar("E", bound=Expectation)
E_contra = TypeVar("E_contra", bound=Expectation, contravariant=True)
E_co = TypeVar("E_co", bound=Expectation, covariant=True)


class Checker(Protocol[E_contra]):
    """What judges one kind of expectation against the run's evidence."""

    def __call__(self, expectation: E_contra, context: Context, /) -> Outcome: ...


@dataclass(frozen=True)
class Verification(Generic[E_co]):
    """One expectation with the checker that judges it (a test of `pytest validation/`)."""

    id: str
    expectation: E_co
    checker: Checker[E_co]

    @property
    def kind(self) -> str:
        """The expectation kind, e.g. `alerts` (the id's prefix)."""
        return self.id.split(":", 1)[0]

    def run(self, ctx: Context) -> Outcome:
        return self.checker(self.expectation, ctx)

    def judge(self, ctx: Context) -> Outcome:
        """`run`, with a backend that cannot answer an outcome that could not be judged (an
        error, not a failure, nor an exception)."""
        try:
            return self.run(ctx)
        except BackendError as exc:  # BackendUnavailable too
            return Outcome.not_judged(str(exc))

    def describe(self) -> str:
        fields = self.expectation.model_dump(exclude_defaults=True, mode="json")
        return f"{self.id} {fields}"


def verifications_for(expectations: Expectations) -> list[Verification[Expectation]]:
    """One verification per expectation, in the order checks run (alerts last: they wait
    longest)."""
    return [
        *_of_kind("metrics", expectations.metrics, check_metric),
        *_of_kind("probes", expectations.probes, check_probe_results),
        *_of_kind("targets", expectations.targets, check_targets),
        *_of_kind("cardinality", expectations.cardinality, check_cardinality),
        *_of_kind("load", expectations.load, check_load),
        *_of_kind("rum", expectations.rum, check_rum),
        *_of_kind("traces", expectations.traces, check_traces),
        *_of_kind("logs", expectations.logs, check_logs),
        *_of_kind("rules", expectations.rules, check_rules),
        *_of_kind("quiet", expectations.quiet, check_quiet),
        *_of_kind("heartbeats", expectations.heartbeats, check_heartbeat),
        *_of_kind("alerts", expectations.alerts, check_alert),
    ]


def _of_kind(kind: str, items: list[E], checker: Checker[E]) -> list[Verification[E]]:
    return [Verification(f"{kind}:{item.name}", item, checker) for item in items]
