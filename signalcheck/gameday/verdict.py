"""What a game day may not let pass: an expectation its plan needs that skipped."""

from __future__ import annotations

from signalcheck.evidence import Context, Outcome, Verification
from signalcheck.evidence.alerts import judged_faults
from signalcheck.expectations import AlertExpectation

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
