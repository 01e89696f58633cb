"""Did the service count what the load sent? Ledger `load` entry vs. its request counter.

The service's count over the load window is the difference of the counter's values read
at the window's start and one settle time after its end (at least two scrape intervals,
so the scrape after the last response is in). That difference is exact when nothing else
sends to the region's counted routes during the window and the counter does not reset;
`increase()` is not: it extrapolates to the window's edges and misses the first increment
of a series born inside the window (the first 5xx, say).

Routes the service does not count (health, metrics) and requests that got no response are
left out of the comparison; a route/status pair that only the service counted shows up as
a row with `sent == 0` (somebody else sent traffic, or the route templates disagree).
`prometheus_error_rate` is the window's 5xx share as one PromQL expression computes it from
the same counter values, to hold against the error rate Locust measured.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.ledger import Entry

REQUEST_COUNTER = 'http_requests_total{job="demo"}'
UNCOUNTED_ROUTES = frozenset({"/health", "/health/ready", "/metrics"})
NO_RESPONSE = "none"
SERVER_ERROR = "5xx"


@dataclass(frozen=True)
class RouteAccuracy:
    route: str
    status_class: str
    sent: int
    counted: float

    @property
    def gap(self) -> float:
        """|counted - sent| / sent; 0 when both are 0, infinite when only one side counted."""
        if self.sent == 0:
            return 0.0 if self.counted == 0 else math.inf
        return abs(self.counted - self.sent) / self.sent


@dataclass(frozen=True)
class LoadAccuracy:
    region: str
    start: float
    end: float
    tolerance: float
    rows: list[RouteAccuracy]

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(row.gap <= self.tolerance for row in self.rows)

    @property
    def worst_gap(self) -> float:
        return max((row.gap for row in self.rows), default=math.inf)

    @property
    def sent_error_rate(self) -> float:
        return _error_rate({(r.route, r.status_class): r.sent for r in self.rows})

    @property
    def counted_error_rate(self) -> float:
        return _error_rate({(r.route, r.status_class): r.counted for r in self.rows})

    def describe(self) -> str:
        """One line per route and status class, the ones off by more than the tolerance marked."""
        lines = [
            f"load on {self.region} {self.start:.3f}..{self.end:.3f}: worst gap "
            f"{self.worst_gap:.2%} (tolerance {self.tolerance:.2%})"
        ]
        for row in self.rows:
            mark = "  " if row.gap <= self.tolerance else "✗ "
            lines.append(
                f"{mark}{row.route} {row.status_class}: sent {row.sent}, counted {row.counted:g}"
            )
        return "\n".join(lines)


def load_accuracy(
    prometheus: PrometheusClient,
    entry: Entry,
    *,
    counter: str = REQUEST_COUNTER,
    region_label: str = "region",
    settle: float = 2.0,
    tolerance: float = 0.01,
    uncounted_routes: frozenset[str] = UNCOUNTED_ROUTES,
) -> LoadAccuracy:
    """Compare a ledger `load` entry's requests with what `counter` counted in its region.

    Waits (at most `settle` seconds) until the settle time after the window has passed.
    Raises ValueError when the counter went down in the window (the service restarted).
    """
    region, start, end = entry.field("region"), entry.field("start"), entry.field("end")
    after_at = end + settle
    time.sleep(max(0.0, min(settle, after_at - time.time())))
    selector = _with_matcher(counter, f'{region_label}="{region}"')
    before = counted_by_class(prometheus, selector, start)
    after = counted_by_class(prometheus, selector, after_at)
    counted = {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after.keys() | before}
    reset = sorted(f"{route} {status}" for (route, status), n in counted.items() if n < 0)
    if reset:
        raise ValueError(f"{selector} went down during the load window ({', '.join(reset)})")
    sent = {
        (route, status): n
        for route, classes in entry.field("requests", {}).items()
        if route not in uncounted_routes
        for status, n in classes.items()
        if status != NO_RESPONSE
    }
    keys = sorted(sent.keys() | {key for key, n in counted.items() if n > 0})
    rows = [
        RouteAccuracy(route, cls, sent.get((route, cls), 0), counted.get((route, cls), 0.0))
        for route, cls in keys
    ]
    return LoadAccuracy(region=region, start=start, end=end, tolerance=tolerance, rows=rows)


def counted_by_class(
    prometheus: PrometheusClient, selector: str, at: float
) -> dict[tuple[str, str], float]:
    """(route, status class) -> the counter's value at time `at` (absent series count as 0)."""
    totals: dict[tuple[str, str], float] = {}
    for series in prometheus.query(f"sum by (route, status) ({selector})", time=at):
        labels = series["metric"]
        key = (labels.get("route", ""), f"{labels.get('status', '?')[:1]}xx")
        totals[key] = totals.get(key, 0.0) + float(series["value"][1])
    return totals


def prometheus_error_rate(
    prometheus: PrometheusClient,
    region: str,
    start: float,
    end: float,
    *,
    counter: str = REQUEST_COUNTER,
    region_label: str = "region",
    settle: float = 2.0,
) -> float | None:
    """The 5xx share of the window as one PromQL expression computes it from the counter at
    `start` and at `end + settle` (`@` modifiers); None when the counter saw no request."""
    selector = _with_matcher(counter, f'{region_label}="{region}"')
    errors = _with_matcher(selector, 'status=~"5.."')
    after = end + settle

    def grown(series: str) -> str:
        now, then = (f"(sum({series} @ {t:.3f}) or vector(0))" for t in (after, start))
        return f"({now} - {then})"

    result = prometheus.query(f"{grown(errors)} / {grown(selector)}", time=after)
    rate = float(result[0]["value"][1]) if result else math.nan
    return None if math.isnan(rate) or math.isinf(rate) else rate


def _error_rate(counts: dict[tuple[str, str], float]) -> float:
    total = sum(counts.values())
    errors = sum(n for (_, status), n in counts.items() if status == SERVER_ERROR)
    return errors / total if total else 0.0


def _with_matcher(selector: str, matcher: str) -> str:
    """Add one label matcher to a selector like `metric{a="b"}` or `metric`."""
    if selector.endswith("}"):
        head = selector[:-1].rstrip()
        return f"{head}{'' if head.endswith('{') else ','}{matcher}}}"
    return f"{selector}{{{matcher}}}"
