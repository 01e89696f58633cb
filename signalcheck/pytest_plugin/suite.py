"""The shipped validation suite: one `test_signal` per expectation of the config, judged
against the run ledger (the plugin in `signalcheck.pytest_plugin` parametrizes it)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from signalcheck.backends.base import BackendError
from signalcheck.evidence import Context, Verification


def test_signal(
    verification: Verification,
    evidence: Context,
    record_property: Callable[[str, object], None],
) -> None:
    """The expectation's evidence of this run arrived, correct and in time."""
    try:
        outcome = verification.run(evidence)
    except BackendError as exc:  # BackendUnavailable too
        unreachable = str(exc)  # failed outside the handler: no chained exceptions shown
    else:
        unreachable = None
    if unreachable is not None:
        pytest.fail(
            f"expectation: {verification.describe()}\nbackend:     {unreachable}", pytrace=False
        )
    record_property("waited_s", round(outcome.waited, 3))
    if outcome.time_to_appear is not None:
        record_property("time_to_appear_s", round(outcome.time_to_appear, 3))
    if outcome.appeared_within is not None:
        record_property("appeared_within_s", round(outcome.appeared_within, 3))
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    if not outcome.passed:
        pytest.fail(outcome.report(verification.describe()), pytrace=False)
