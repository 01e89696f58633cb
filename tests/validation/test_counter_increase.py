"""A counter's increase from raw samples as Prometheus' increase() counts it, and the config forms
of a metric expectation that reads raw samples (no stack: the real-Prometheus cases are in
test_metric_evidence.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from signalcheck.evidence.counters import Increase
from signalcheck.evidence.metrics import judged_by
from signalcheck.expectations import MetricExpectation


@pytest.mark.parametrize(
    ("values", "total", "new"),
    [
        ([[90, "5"], [100, "5"], [101, "7"], [102, "9"]], 4, 0),  # from the last sample before
        ([[90, "5"], [101, "1"], [102, "3"]], 3, 0),  # a reset: 1 counted from 0, then 2
        ([[101, "2"], [102, "3"]], 3, 1),  # began in the window: counted from 0
        ([[90, "5"], [101, "NaN"], [102, "6"]], 1, 0),  # a NaN sample is no value
    ],
)
def test_increase_sums_the_rises_and_counts_a_reset_from_zero(values, total, new):
    increase = Increase()
    increase.add(values, start=100.5)
    assert (increase.total, increase.new, increase.series) == (total, new, 1)


def test_the_increase_reaches_a_target_at_the_sample_that_brought_it():
    increase = Increase()
    increase.add([[90, "0"], [101, "1"], [103, "2"]], start=100)
    increase.add([[102, "1"]], start=100)
    assert (increase.reached(2), increase.reached(3), increase.reached(4)) == (102, 103, None)


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"query": 'http_requests_total{job="x"}'}, "moved"),
        ({"query": 'up{job="x"}'}, "scraped"),
        ({"query": "sum by (region) (up)"}, "moved"),
        ({"query": "up", "series": "exists_now"}, "exists_now"),
    ],
)
def test_a_counter_or_an_expression_must_move_any_other_selector_be_scraped(fields, rule):
    assert judged_by(MetricExpectation(name="m", **fields)) == rule


@pytest.mark.parametrize(
    "fields",
    [
        {"query": "sum(x_total)", "increase_equals": "probes"},
        {"query": "x_total offset 1m", "increase_equals": "probes"},
        {"query": "max(up)", "series": "scraped"},
    ],
)
def test_raw_samples_need_a_series_selector(fields):
    with pytest.raises(ValidationError, match="must be a series selector"):
        MetricExpectation(name="m", **fields)
