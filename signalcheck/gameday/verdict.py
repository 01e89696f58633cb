"""What a game day may not let pass: an expectation its plan needs that skipped, and an alert
expectation whose `experiment` glob no experiment's title matches any more."""

from __future__ import annotations

from signalcheck.evidence import Context, Outcome, Verification
from signalcheck.evidence.alerts import judged_faults
from signalcheck.evidence.experiments import unmatched_glob
from signalcheck.expectations import AlertExpectation, Expectations

ACTOR_OF_KIND = {"alerts": "fault", "load": "load"}
"""Conditional expectation kind -> the actor (`planned` entry) whose absence lets it skip."""


def skip_problem(verification: Verification, outcome: Outcome, context: Context) -> str | None:
    """Why `outcome`'s skip cannot stand (None when it may): only a conditional expectation
    whose actor the phase did not plan may skip."""
    if outcome.skipped is None:
        return None
    kind = verification.kind
    actor = ACTOR_OF_KIND.get(kind)
    if actor is None or not getattr(verification.expectation, "conditional", False):
        return f"{verification.id} skipped but is not conditional: {outcome.skipped}"
    expectation = verification.expectation
    if isinstance(expectation, AlertExpectation):
        _, planned, _ = judged_faults(expectation, context)
    else:
        planned = context.planned(actor)
    if planned:
        return f"{verification.id} skipped although this run planned its {actor}: {outcome.skipped}"
    return None


def unmatched_globs(
    expectations: Expectations, titles: dict[str, str], context: Context
) -> list[str]:
    """The alert expectations judging only the faults of experiments whose title matches a
    glob that no known experiment's title (`titles`: title -> file) matches, while this run
    planned a fault they would judge: a renamed experiment would turn them into conditional
    skips (see `unmatched_glob`, which `pytest validation/` asks too)."""
    found = (unmatched_glob(exp, lambda: titles, context) for exp in expectations.alerts)
    return [problem for problem in found if problem is not None]
