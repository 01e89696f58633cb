"""Per-route counting, and the counts workers hand to the master."""

from __future__ import annotations

import pytest

from signalcheck.loadtests.counting import RequestCounts, status_class


@pytest.mark.parametrize(
    ("code", "expected"),
    [(200, "2xx"), (204, "2xx"), (404, "4xx"), (503, "5xx"), (0, "none"), (None, "none")],
)
def test_status_classes(code, expected):
    assert status_class(code) == expected


def test_counts_by_target_route_and_class():
    counts = RequestCounts()
    counts.add("demo", "/auth/token", 200, 10.0, 10.1)
    counts.add("demo", "/auth/token", 500, 9.0, 9.5)
    counts.add("demo", "/auth/token", 200, 11.0, 12.0)
    counts.add("rum", "/v1/events", 202, 11.0, 11.2)
    assert counts.of("demo") == {"/auth/token": {"2xx": 2, "5xx": 1}}
    assert counts.of("rum") == {"/v1/events": {"2xx": 1}}
    assert (counts.first_start, counts.last_end, counts.total()) == (9.0, 12.0, 4)


def test_drained_worker_counts_merge_into_the_master_exactly_once():
    master, worker_a, worker_b = RequestCounts(), RequestCounts(), RequestCounts()
    worker_a.add("demo", "/", 200, 5.0, 6.0)
    worker_b.add("demo", "/", 200, 4.0, 7.0)
    worker_b.add("demo", "/", 503, 4.0, 7.0)
    for message in (worker_a.drain(), worker_b.drain(), worker_a.drain()):
        master.merge(message)
    assert master.of("demo") == {"/": {"2xx": 2, "5xx": 1}}
    assert (master.first_start, master.last_end) == (4.0, 7.0)
    assert worker_a.total() == worker_b.total() == 0
