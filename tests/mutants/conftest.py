"""The mutant suite shares one real local stack (the fixtures of tests/stack); its kill table
is written under the pytest temporary directory and printed at the end of the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from signalcheck.config import load_config
from tests.mutants.exercises import Stage, assert_healthy
from tests.mutants.killtable import KILLS, hand_over, markdown
from tests.stack.conftest import stack, stack_config
from tests.validation.support import SuiteRun, write_suite_config

__all__ = ["stack", "stack_config"]

BUDGET = 3.0
"""Arrival budget of most expectations: a killed signal fails fast."""
SLOW_ARRIVALS = {"probes": 15.0, "rum": 15.0}
"""Kinds whose evidence cannot arrive within BUDGET, and their budget (as shipped):
a probe pass pushes its results when its last check (the browser's) ends, seconds after the
first checks' events; the RUM SDK sends its events at its 3 s flush."""


@pytest.fixture(scope="package")
def suite_config(stack, stack_config) -> Path:
    """The shipped checks and expectations on this stack, budgets cut to BUDGET (slow
    arrivals to theirs)."""
    path = write_suite_config(stack_config.source, budget=BUDGET)
    config = yaml.safe_load(path.read_text())
    for kind, budget in SLOW_ARRIVALS.items():
        for item in config["expectations"].get(kind, []):
            item["budget"] = budget
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture(scope="package")
def stage(stack, suite_config) -> Stage:
    return Stage(stack, load_config(suite_config, environ={}), suite_config)


@pytest.fixture(scope="package")
def healthy_before(stage) -> SuiteRun:
    """A probe pass and `pytest validation/` on the stack before any mutant: all green."""
    run = assert_healthy(stage)
    return run


@pytest.fixture(scope="package", autouse=True)
def kill_table(request, tmp_path_factory) -> Iterator[None]:
    """After the package: the kill table saved under the session's temp dir and handed to
    whichever process prints it (tests/conftest.py)."""
    yield
    if KILLS:
        path = tmp_path_factory.getbasetemp() / "mutant-kill-table.md"
        path.write_text(markdown(KILLS) + "\n")
        hand_over(request.config, f"{markdown(KILLS)}\n(saved to {path})")
