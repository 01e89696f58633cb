"""The load accuracy comparison, against a Prometheus that answers from fixed counter values."""

from __future__ import annotations

import math
import time

import pytest

from signalcheck.evidence.load import load_accuracy
from signalcheck.expectations import LoadExpectation
from signalcheck.ledger import Entry

START, END, SETTLE = 1000.0, 1020.0, 2.0
EXACT = LoadExpectation(name="exact", settle=SETTLE)


SCRAPED = END + 1.0
"""The first scrape after the load's end."""


class FakePrometheus:
    """Counter values per (route, status) before the window and at the scrape after it."""

    def __init__(self, before: dict, after: dict):
        self.values = {START: before, SCRAPED: after}
        self.queries: list[str] = []

    def query(self, promql: str, time: float | None = None) -> list[dict]:
        self.queries.append(promql)
        if promql.startswith("max(timestamp("):  # the last scrape before the start
            return [{"metric": {}, "value": [time, str(START - 1)]}]
        if promql.endswith("s]"):  # the raw samples after the end
            return [{"metric": {}, "values": [[SCRAPED, "1"]]}]
        return [
            {"metric": {"route": route, "status": status}, "value": [time, str(value)]}
            for (route, status), value in self.values[time].items()
        ]


def entry(requests: dict) -> Entry:
    return Entry(
        ts=time.time(), kind="load", region="eu-west-1", start=START, end=END, requests=requests
    )


SENT = {
    "/auth/token": {"2xx": 100, "5xx": 10},
    "/v1/assignments": {"2xx": 50},
    "/health": {"2xx": 40},  # the service does not count health checks
    "/v1/assignments/{assignment_id}": {"none": 3},  # never answered: nothing to count
}
BEFORE = {("/auth/token", "200"): 7.0}
AFTER = {
    ("/auth/token", "200"): 107.0,
    ("/auth/token", "500"): 10.0,
    ("/v1/assignments", "201"): 50.0,
}


def test_exact_counts_pass_and_leave_uncounted_routes_out():
    prometheus = FakePrometheus(BEFORE, AFTER)
    result = load_accuracy(prometheus, entry(SENT), EXACT)
    assert result.passed, result.describe()
    assert [(r.route, r.status_class, r.sent, r.counted) for r in result.rows] == [
        ("/auth/token", "2xx", 100, 100.0),
        ("/auth/token", "5xx", 10, 10.0),
        ("/v1/assignments", "2xx", 50, 50.0),
    ]
    assert result.sent_error_rate == result.counted_error_rate == pytest.approx(10 / 160)
    assert all('region="eu-west-1"' in q and 'job="demo"' in q for q in prometheus.queries)


def test_a_gap_over_the_tolerance_fails_and_is_marked():
    after = {**AFTER, ("/v1/assignments", "201"): 49.0}
    result = load_accuracy(FakePrometheus(BEFORE, after), entry(SENT), EXACT)
    assert not result.passed
    assert result.worst_gap == pytest.approx(0.02)
    assert "✗ /v1/assignments 2xx: sent 50, counted 49" in result.describe()
    assert load_accuracy(
        FakePrometheus(BEFORE, after), entry(SENT), EXACT.model_copy(update={"tolerance": 0.05})
    ).passed


def test_traffic_only_the_service_counted_fails():
    after = {**AFTER, ("/", "200"): 5.0}
    result = load_accuracy(FakePrometheus(BEFORE, after), entry(SENT), EXACT)
    assert not result.passed
    assert ("/", "2xx", 0, 5.0, math.inf) in [
        (r.route, r.status_class, r.sent, r.counted, r.gap) for r in result.rows
    ]


def test_a_counter_reset_is_an_error_not_a_pass():
    after = {**AFTER, ("/auth/token", "200"): 3.0}
    with pytest.raises(ValueError, match="went down"):
        load_accuracy(FakePrometheus(BEFORE, after), entry(SENT), EXACT)


def test_nothing_to_compare_does_not_pass():
    result = load_accuracy(FakePrometheus({}, {}), entry({"/health": {"2xx": 5}}), EXACT)
    assert not result.passed
