"""How fast the configuration lets an alert be detected or resolved.

detect:  floor = the rule's `for` + Alertmanager's group_wait; bound = floor + one scrape
         interval + one evaluation interval (where the fault falls between them). A windowed
         condition (e.g. a ratio of rate(...[1m])) may also need time to cross its threshold.
resolve: bound = one scrape + one evaluation + Alertmanager's group_interval + the rule's
         longest range window (the fault has to age out of it).
"""

from __future__ import annotations

import re
from typing import Any

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config
from signalcheck.errors import BackendError

RANGE = re.compile(r"\[(\d+)([smhd])(?::[^\]]*)?\]")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def alert_rule(prometheus: PrometheusClient, alert: str) -> dict[str, Any]:
    """The loaded alerting rule `alert` as the rules API shows it (`duration`, `query`)."""
    for group in prometheus.rules("alert"):
        for rule in group["rules"]:
            if rule["name"] == alert:
                return rule
    raise BackendError(f"prometheus: no alerting rule named {alert!r} is loaded")


def rule_window(rule: dict[str, Any]) -> float:
    """The longest range selector in the rule's expression, in seconds (0 for none)."""
    ranges = RANGE.findall(rule.get("query", ""))
    return max((int(n) * UNIT_SECONDS[unit] for n, unit in ranges), default=0)


def detect_floor(config: Config, rule: dict[str, Any]) -> float:
    return float(rule.get("duration", 0)) + config.stack.group_wait


def detect_bound(config: Config, rule: dict[str, Any]) -> float:
    stack = config.stack
    return detect_floor(config, rule) + stack.scrape_interval + stack.evaluation_interval


def resolve_bound(config: Config, rule: dict[str, Any]) -> float:
    stack = config.stack
    pipeline = stack.scrape_interval + stack.evaluation_interval + stack.group_interval
    return pipeline + rule_window(rule)
