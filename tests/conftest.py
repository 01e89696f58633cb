"""Test-run wiring: with pytest-xdist, each test package runs whole in one worker, so a
package's local stack (a package-scoped fixture) starts once and its tests keep their order.

The chaos, validation and gameday packages are the exception: their modules each run whole
in one worker, so their long tests spread over the workers, each worker starting the
package's stack for itself (every test of a module still shares one stack, in order)."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
GROUPED_BY_MODULE = frozenset({"chaos", "validation", "gameday"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue  # the test chose its group (e.g. a shard of the mutant suite)
        parts = Path(item.path).resolve().relative_to(TESTS).parts
        group = "/".join(parts[:2]) if parts[0] in GROUPED_BY_MODULE else parts[0]
        item.add_marker(pytest.mark.xdist_group(group))
