"""The floors and bounds the configuration implies, from a rule as the rules API shows it."""

from __future__ import annotations

from signalcheck.chaos.floors import detect_bound, detect_floor, resolve_bound, rule_window
from signalcheck.config import load_config
from tests.support import write_stack_config

RATIO = {
    "duration": 30,
    "query": 'sum by (region) (rate(x{status=~"5.."}[1m])) / sum by (region) (rate(x[30s])) > 0.05',
}
GAUGE = {"duration": 30, "query": 'up{job="demo"} == 0'}


def test_windows_are_the_longest_range_selector() -> None:
    assert rule_window(RATIO) == 60
    assert rule_window(GAUGE) == 0
    assert rule_window({"query": "max_over_time(x[1h:5m]) > 1 and y[6h] > 0"}) == 6 * 3600


def test_floors_and_bounds_follow_the_stack_timings(tmp_path) -> None:
    config = load_config(write_stack_config(tmp_path), environ={})  # 1s/1s, group 1s/2s
    assert detect_floor(config, GAUGE) == 31
    assert detect_bound(config, GAUGE) == 33
    assert resolve_bound(config, GAUGE) == 4
    assert resolve_bound(config, RATIO) == 64
