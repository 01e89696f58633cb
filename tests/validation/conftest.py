"""The validation tests share one real local stack per module (the fixtures of tests/stack)."""

from pathlib import Path

import pytest

from signalcheck.config import Config, load_config
from tests.stack.conftest import admin, stack, stack_config, traffic
from tests.validation.support import write_suite_config

__all__ = ["admin", "stack", "stack_config", "traffic"]


@pytest.fixture(scope="module")
def suite_config(stack, stack_config) -> Path:
    """The stack's config as `pytest validation/` reads it in these tests (budgets cut)."""
    return write_suite_config(stack_config.source)


@pytest.fixture(scope="module")
def probe_config(suite_config) -> Config:
    """The stack's config with the shipped checks: what `signalcheck probe --once` runs."""
    return load_config(suite_config, environ={})
