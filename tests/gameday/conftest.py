"""The game day's stack: the shipped config on free ports, already running when the game day
starts, so the game day must leave it running and must restore the faults it injects."""

from __future__ import annotations

import pytest

from signalcheck.config import Config, load_config
from tests.stack.conftest import stack  # noqa: F401 - the package's stack, on stack_config
from tests.support import write_shipped_config


@pytest.fixture(scope="package")
def stack_config(tmp_path_factory) -> Config:
    return load_config(write_shipped_config(tmp_path_factory.mktemp("gameday")), environ={})


@pytest.fixture
def config(stack_config, stack) -> Config:  # noqa: F811
    return stack_config
