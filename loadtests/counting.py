"""Requests sent, per target, route template and status class: what the ledger records.

Pure bookkeeping (no Locust import), so the master, the workers and the tests share it.
A worker drains its counts into each report to the master; the master merges them.
"""

from __future__ import annotations

from typing import Any

SERVICE = "service"
"""The target of the requests to the load's region (the ledger's `requests`)."""
RUM = "rum"
"""The target of the shipped RUM users' batches to the ingest (`rum_requests`)."""
NO_RESPONSE = "none"
"""Status class of a request that got no HTTP response (connection error, timeout)."""

Counts = dict[str, dict[str, dict[str, int]]]
"""target (SERVICE, RUM, or another host's `host:port`) -> request name (the route template)
-> status class ("2xx", ..., "none") -> n."""


def status_class(status_code: int | None) -> str:
    """200 -> "2xx"; 0 or None (no response) -> "none"."""
    if not status_code or not 100 <= status_code <= 599:
        return NO_RESPONSE
    return f"{status_code // 100}xx"


class RequestCounts:
    """Counts of requests sent, plus when the first one started and the last one ended."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.counts: Counts = {}
        self.first_start: float | None = None
        self.last_end: float | None = None

    def add(
        self, target: str, route: str, status_code: int | None, start: float, end: float
    ) -> None:
        self._count(target, route, status_class(status_code), 1)
        self._widen(start, end)

    def drain(self) -> dict[str, Any]:
        """The counts so far as a message for the master; this instance starts again at 0."""
        message = {
            "counts": self.counts,
            "first_start": self.first_start,
            "last_end": self.last_end,
        }
        self._reset()
        return message

    def merge(self, message: dict[str, Any]) -> None:
        """Add a message made by `drain` (in another process) to these counts."""
        for target, routes in message["counts"].items():
            for route, classes in routes.items():
                for key, n in classes.items():
                    self._count(target, route, key, n)
        self._widen(message["first_start"], message["last_end"])

    def of(self, target: str) -> dict[str, dict[str, int]]:
        """route -> status class -> n for one target (empty when it got no request)."""
        return self.counts.get(target, {})

    def others(self) -> Counts:
        """The counts of every target but the service and the RUM ingest (other hosts)."""
        return {t: routes for t, routes in self.counts.items() if t not in (SERVICE, RUM)}

    def total(self) -> int:
        return sum(
            n for routes in self.counts.values() for c in routes.values() for n in c.values()
        )

    def _count(self, target: str, route: str, key: str, n: int) -> None:
        by_class = self.counts.setdefault(target, {}).setdefault(route, {})
        by_class[key] = by_class.get(key, 0) + n

    def _widen(self, start: float | None, end: float | None) -> None:
        if start is not None:
            self.first_start = start if self.first_start is None else min(self.first_start, start)
        if end is not None:
            self.last_end = end if self.last_end is None else max(self.last_end, end)
