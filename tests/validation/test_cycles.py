"""Issue 12's must-show: twenty healthy probe + validate cycles in a row, no failure (its
own module, so that it runs beside the other validation modules on its own stack)."""

from __future__ import annotations

import pytest

from tests.validation.support import healthy_run

pytestmark = [pytest.mark.stack, pytest.mark.slow]


@pytest.mark.timeout(900)
def test_twenty_consecutive_probe_and_validate_cycles_on_the_healthy_stack_pass(
    probe_config, suite_config
):
    """Twenty cycles of a real probe pass and `pytest validation/` judging its new ledger."""
    for number in range(20):
        run = healthy_run(probe_config, suite_config)
        assert run.failed() == set(), f"cycle {number + 1} of 20:\n{run.output[-4000:]}"
        assert run.returncode == 0
