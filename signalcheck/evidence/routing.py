"""Alertmanager's notification timers, read from the config in use: how long a notification
may follow its alert, and how often a still-firing alert is re-notified."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from signalcheck.backends.base import BackendError
from signalcheck.evidence.context import Context

NOTIFY_SLACK = 2.0
"""Seconds for the webhook round trip on top of Alertmanager's timers."""

_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


@dataclass(frozen=True)
class RouteTimers:
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0
    """Alertmanager's own defaults, for a route tree that sets none."""


def prometheus_duration(text: str) -> float:
    """Seconds of a Prometheus/Alertmanager duration like '30s', '1h30m' or '500ms'."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)


def _tree(route: dict[str, Any], inherited: RouteTimers) -> Iterator[RouteTimers]:
    """The timers of a route (each unset one inherited) and of every route below it."""
    timers = RouteTimers(
        *(
            prometheus_duration(str(route[key])) if key in route else getattr(inherited, key)
            for key in ("group_wait", "group_interval", "repeat_interval")
        )
    )
    yield timers
    for child in route.get("routes") or []:
        yield from _tree(child, timers)


def route_timers(ctx: Context) -> list[RouteTimers]:
    """Every route's timers from the Alertmanager config in use; Alertmanager's defaults when
    it cannot be read (not configured, not answering, not parseable)."""
    try:
        status = ctx.backends.alertmanager().status()
        route = yaml.safe_load(status["config"]["original"]).get("route") or {}
        return list(_tree(route, RouteTimers()))
    except (BackendError, KeyError, AttributeError, ValueError, yaml.YAMLError):
        return [RouteTimers()]


def notification_grace(ctx: Context) -> float:
    """Seconds a notification may follow the alert that caused it: a new group waits
    `group_wait`, an alert joining a group that already notified up to `group_interval` (the
    longest of the route tree), plus slack."""
    return max(max(t.group_wait, t.group_interval) for t in route_timers(ctx)) + NOTIFY_SLACK


def renotify_interval(ctx: Context) -> float:
    """Seconds within which Alertmanager re-notifies an alert that keeps firing: the longest
    `repeat_interval` of the route tree plus its `group_interval` (repeats go out on the
    group's ticks)."""
    return max(t.repeat_interval + t.group_interval for t in route_timers(ctx))
