"""Test-run wiring: with pytest-xdist, each test package runs whole in one worker, so a
package's local stack (a package-scoped fixture) starts once and its tests keep their order.

The chaos, validation and gameday packages are the exception: their modules each run whole
in one worker, so their long tests spread over the workers, each worker starting the
package's stack for itself (every test of a module still shares one stack, in order).

The groups are handed to the workers longest first (`--no-loadscope-reorder` keeps this
order; xdist's own puts the groups with most tests first, which left a group of one
four-minute test to start last, alone at the end of the run). A group's length is the sum of
its tests' own `timeout` marks, else STACK_TEST_SECONDS for a test on a stack.

The mutant suite's kill tables are printed here: the one of this process, or under xdist the
one each shard's worker handed back."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from tests.mutants.killtable import TABLES, WORKER_OUTPUT_KEY

TESTS = Path(__file__).resolve().parent
GROUPED_BY_MODULE = frozenset({"chaos", "validation", "gameday"})
STACK_TEST_SECONDS = 60.0
"""What a test on the local stack without a `timeout` mark of its own is reckoned to take."""
UNIT_TEST_SECONDS = 0.1


def group_of(item: pytest.Item) -> str:
    """The item's xdist group: the one it chose, else its package (or module, see above)."""
    chosen = item.get_closest_marker("xdist_group")
    if chosen is not None:
        return str(chosen.args[0] if chosen.args else chosen.kwargs["name"])
    parts = Path(item.path).resolve().relative_to(TESTS).parts
    return "/".join(parts[:2]) if parts[0] in GROUPED_BY_MODULE else parts[0]


def reckoned_seconds(item: pytest.Item) -> float:
    """How long the test may take: its own `timeout` mark, else by whether it needs a stack."""
    timeout = item.get_closest_marker("timeout")
    if timeout is not None and timeout.args:
        return float(timeout.args[0])
    return STACK_TEST_SECONDS if item.get_closest_marker("stack") else UNIT_TEST_SECONDS


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    groups = {item.nodeid: group_of(item) for item in items}
    length: defaultdict[str, float] = defaultdict(float)
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
        length[groups[item.nodeid]] += reckoned_seconds(item)
    items.sort(key=lambda item: -length[groups[item.nodeid]])  # stable: a group keeps its order


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    table = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if table:
        TABLES.append(table)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for table in TABLES:
        terminalreporter.write_sep("=", "mutant kill table")
        terminalreporter.write_line(table)
