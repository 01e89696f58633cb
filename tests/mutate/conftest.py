"""The mutate package's stack: the shipped config on free ports (its checks, expectations and
rule globs), started once for the package's one real-stack test."""

from __future__ import annotations

import pytest

from signalcheck.config import Config, load_config
from tests.stack.conftest import stack  # noqa: F401 - the package's stack, on stack_config
from tests.support import write_shipped_config


@pytest.fixture(scope="package")
def stack_config(tmp_path_factory) -> Config:
    return load_config(write_shipped_config(tmp_path_factory.mktemp("mutate")), environ={})
