"""`pytest validation/` from the repository: the signalcheck pytest plugin
(`signalcheck.pytest_plugin`, loaded through its `pytest11` entry point), active with the
config of `--signalcheck-config`, `$SIGNALCHECK_CONFIG` or ./signalcheck.yaml.

An installed signalcheck needs no such folder: `pytest --signalcheck-config FILE` or
`signalcheck validate`.
"""

from __future__ import annotations

import pytest

from signalcheck.pytest_plugin import activate


def pytest_configure(config: pytest.Config) -> None:
    activate(config)
