"""The shipped validation suite: one `test_signal` per expectation of the config, judged
against the run ledger (the plugin in `signalcheck.pytest_plugin` parametrizes it and judges
it in its `signalcheck_outcome` fixture: one that cannot be judged is an error there)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from signalcheck.evidence import Outcome, Verification


def test_signal(
    verification: Verification,
    signalcheck_outcome: Outcome,
    record_property: Callable[[str, object], None],
) -> None:
    """The expectation's evidence of this run arrived, correct and in time."""
    outcome = signalcheck_outcome
    record_property("waited_s", round(outcome.waited, 3))
    if outcome.time_to_appear is not None:
        record_property("time_to_appear_s", round(outcome.time_to_appear, 3))
    if outcome.appeared_within is not None:
        record_property("appeared_within_s", round(outcome.appeared_within, 3))
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    if not outcome.passed:
        pytest.fail(outcome.report(verification.describe()), pytrace=False)
