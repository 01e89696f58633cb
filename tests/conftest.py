"""Test-run wiring: with pytest-xdist, each test package runs whole in one worker, so a
package's local stack (a package-scoped fixture) starts once and its tests keep their order."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        package = Path(item.path).resolve().relative_to(TESTS).parts[0]
        item.add_marker(pytest.mark.xdist_group(package))
