"""The suite's xdist groups are in force: a package's tests share one worker and so one local
stack (tests/conftest.py). pytest 9.2 with pytest-xdist 3.8 silently dropped them, and every
package then started its stack on every worker."""

from __future__ import annotations

import pytest

from tests.conftest import group_of


def test_a_worker_runs_this_test_in_its_group(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run by an xdist worker with --dist loadgroup")
    group = group_of(request.node)
    assert group == "core"
    assert request.node.nodeid.endswith(f"@{group}"), (
        f"{request.node.nodeid} carries no @{group}: xdist does not group the tests"
    )
