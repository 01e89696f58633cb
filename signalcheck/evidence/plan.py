"""Expectations -> verifications, one per expectation, each with a readable id like
`metrics:requests-every-region` (the test id in `pytest validation/`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from signalcheck.backends.base import BackendError
from signalcheck.evidence.alerts import check_alert, check_quiet
from signalcheck.evidence.cardinality import check_cardinality
from signalcheck.evidence.context import Context
from signalcheck.evidence.heartbeats import check_heartbeat
from signalcheck.evidence.load import check_load
from signalcheck.evidence.logs import check_logs
from signalcheck.evidence.metrics import check_metric
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.probe_results import check_probe_results
from signalcheck.evidence.rules import check_rules
from signalcheck.evidence.rum import check_rum
from signalcheck.evidence.targets import check_targets
from signalcheck.evidence.traces import check_traces
from signalcheck.expectations import Expectations

CHECKERS: dict[str, Callable[[Any, Context], Outcome]] = {
    "metrics": check_metric,
    "probes": check_probe_results,
    "targets": check_targets,
    "cardinality": check_cardinality,
    "load": check_load,
    "rum": check_rum,
    "traces": check_traces,
    "logs": check_logs,
    "rules": check_rules,
    "quiet": check_quiet,
    "heartbeats": check_heartbeat,
    "alerts": check_alert,
}
"""Expectation kind -> checker, in the order checks run (alerts last: they wait longest)."""


@dataclass(frozen=True)
class Verification:
    """One expectation with the checker that judges it (a test of `pytest validation/`)."""

    id: str
    expectation: Any
    checker: Callable[[Any, Context], Outcome]

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


def plan(expectations: Expectations) -> list[Verification]:
    return [
        Verification(f"{kind}:{item.name}", item, checker)
        for kind, checker in CHECKERS.items()
        for item in getattr(expectations, kind)
    ]
