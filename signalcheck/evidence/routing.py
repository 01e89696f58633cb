"""Alertmanager's notification timers, read from the config in use: how long a notification
may follow its alert, and how often a still-firing alert is re-notified.

Read from the Alertmanager in use (`/api/v2/status`, its loaded config), else, when that is
the local stack's, from the alertmanager.yml the local stack rendered for it. Never assumed:
when neither can be read, a check that needs them cannot be judged (`UnknownTimers`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from signalcheck.config import Config
from signalcheck.errors import BackendError, UnknownTimers
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
    """Alertmanager's own defaults, for a route of a readable config that sets none."""


@dataclass(frozen=True)
class Timers:
    """Every route's timers, and where they were read."""

    routes: list[RouteTimers]
    source: str
    """e.g. 'the Alertmanager at http://127.0.0.1:19093 (/api/v2/status)'."""

    @property
    def grace(self) -> float:
        """Seconds a notification may follow the alert that caused it: a new group waits
        `group_wait`, an alert joining a group that already notified up to `group_interval`
        (the longest of the route tree), plus slack."""
        return max(max(t.group_wait, t.group_interval) for t in self.routes) + NOTIFY_SLACK

    @property
    def renotify(self) -> float:
        """Seconds within which Alertmanager re-notifies an alert that keeps firing: the
        longest `repeat_interval` of the route tree plus its `group_interval` (repeats go out on
        the group's ticks)."""
        return max(t.repeat_interval + t.group_interval for t in self.routes)


def prometheus_duration(text: str) -> float:
    """Seconds of a Prometheus/Alertmanager duration like '30s', '1h30m' or '500ms'."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)


def _tree(route: dict[str, object], inherited: RouteTimers) -> Iterator[RouteTimers]:
    """The timers of a route (each unset one inherited) and of every route below it; a
    ValueError when the routes below it are not a list of mappings."""
    timers = RouteTimers(
        *(
            prometheus_duration(str(route[key])) if key in route else getattr(inherited, key)
            for key in ("group_wait", "group_interval", "repeat_interval")
        )
    )
    yield timers
    children = route.get("routes") or []
    if not isinstance(children, list):
        raise ValueError(f"`routes` is not a list: {children!r}")
    for child in children:
        if not isinstance(child, dict):
            raise ValueError(f"a route is not a mapping: {child!r}")
        yield from _tree(child, timers)


def parse_timers(text: str) -> list[RouteTimers]:
    """Every route's timers of an Alertmanager config's YAML text; a ValueError saying what
    is wrong when it is not one."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not YAML: {' '.join(str(exc).split())}") from None
    route = document.get("route") if isinstance(document, dict) else None
    if not isinstance(route, dict):
        raise ValueError("no `route` mapping")
    return list(_tree(route, RouteTimers()))


def local_alertmanager_yml(config: Config) -> Path | None:
    """The alertmanager.yml the local stack rendered, when the Alertmanager in use is the local
    stack's (None otherwise: a remote Alertmanager runs a config signalcheck cannot see)."""
    backend = config.backends.alertmanager
    local = f"http://127.0.0.1:{config.stack.ports.alertmanager}"
    if backend is None or backend.base_url.rstrip("/") != local:
        return None
    return config.stack.data_dir.resolve() / "alertmanager.yml"


def alertmanager_timers(ctx: Context) -> Timers:
    """Every route's timers from the Alertmanager in use, else from the local stack's rendered
    config; `UnknownTimers` naming both reasons when neither can be read."""
    backend = ctx.config.backends.alertmanager
    url = backend.base_url if backend is not None else "(not configured)"
    try:
        status = ctx.backends.alertmanager().status()
        loaded = status.get("config") if isinstance(status, dict) else None
        original = loaded.get("original") if isinstance(loaded, dict) else None
        if not isinstance(original, str):
            raise ValueError("its /api/v2/status has no config.original")
        return Timers(parse_timers(original), f"the Alertmanager at {url} (/api/v2/status)")
    except (BackendError, ValueError) as exc:
        unread = [f"the Alertmanager at {url}: {exc}"]
    path = local_alertmanager_yml(ctx.config)
    if path is not None:
        try:
            return Timers(parse_timers(path.read_text()), f"the local stack's {path}")
        except (OSError, ValueError) as exc:
            unread.append(f"{path}: {exc}")
    raise UnknownTimers(
        "Alertmanager's timers (group_wait, group_interval, repeat_interval) are unknown: "
        f"{'; '.join(unread)}; set backends.alertmanager.url to the Alertmanager in use"
    )


def notification_grace(ctx: Context) -> float:
    """`Timers.grace` of the Alertmanager config in use."""
    return alertmanager_timers(ctx).grace


def renotify_interval(ctx: Context) -> float:
    """`Timers.renotify` of the Alertmanager config in use."""
    return alertmanager_timers(ctx).renotify
