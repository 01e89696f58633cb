"""What a game day may not let pass: an expectation its plan needs that skipped, and an alert
expectation whose `experiment` glob no experiment's title matches any more."""

from __future__ import annotations

from signalcheck.evidence import Context, Outcome, Verification
from signalcheck.evidence.alerts import judged_faults
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
    skips. Each names the glob, the known titles and the titles this run's faults came from."""
    problems = []
    for exp in expectations.alerts:
        planned = context.planned("fault", exp.fault)
        if exp.experiment is None or not planned or any(exp.judges(t) for t in titles):
            continue
        known = "; ".join(f"{title!r} ({where})" for title, where in sorted(titles.items()))
        came = ", ".join(sorted({repr(p.field("experiment")) for p in planned}))
        problems.append(
            f"alerts:{exp.name} judges the {exp.fault} faults of experiments titled "
            f"{exp.experiment!r}, and no experiment's title matches it (known: {known}); this "
            f"run's {exp.fault} faults came from {came}: rename the glob or the title, or it "
            "never judges anything"
        )
    return problems
