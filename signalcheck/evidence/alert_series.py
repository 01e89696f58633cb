"""Prometheus' `ALERTS` series, the durable record of when an alert was pending or firing, and
with which labels, that every alert check reads.

`ALERTS` is read as the raw samples the rules wrote (range vectors), never through a range
query's steps: a step looks back up to 5 minutes for a sample, so the last samples of a
Prometheus that stopped (nothing marks them stale) would read as an alert still pending or
firing long after it, e.g. from before a `down` and `up` into the next run. A sample stands
for its state until the next evaluation of its rule, no longer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypedDict

from signalcheck.backends.prometheus import Labels, PrometheusClient, Sample

MAX_SAMPLES = 1000
"""Samples of one series one query reads at most (a rule writes one per evaluation, at least
a second apart): a longer window is read in chunks, within the backends' sample limits."""
PRIOR = 2.0
"""Seconds before a fault (or the run's window) the checks read `ALERTS` too: an alert in the
state then predates it."""
LATE = 2.0
"""Seconds a rule's next evaluation may come (and its sample become readable) after its
interval: an alert with no sample for longer than both has left the state."""


class AlertSeries(TypedDict):
    """One `ALERTS` series in a state: its labels and when its first and last sample were."""

    metric: Labels
    first: float
    last: float


def evaluation_interval(prometheus: PrometheusClient, alert: str | None) -> float:
    """How long one `ALERTS` sample of `alert` (of any alert when None) stands for its state:
    the longest evaluation interval of the loaded rule groups holding it (each evaluation
    writes one); 0 when none does, so that only samples inside a window count."""
    return max(
        (
            float(group.get("interval") or 0)
            for group in prometheus.rules("alert")
            if alert is None or any(r.get("name") == alert for r in group.get("rules", []))
        ),
        default=0.0,
    )


def left_state(last: float, now: float, interval: float) -> bool:
    """No sample since `last` for longer than an evaluation (and LATE): the alert left the
    state (or its Prometheus stopped)."""
    return now - last > interval + LATE


def _raw_series(
    prometheus: PrometheusClient, selector: str, since: float, until: float, interval: float
) -> Iterator[Sample]:
    """The series of `selector` with the samples written after `since` until `until`: range
    vectors evaluated at their end, each at most MAX_SAMPLES evaluations long, oldest first."""
    chunk = round(MAX_SAMPLES * max(interval, 1.0) * 1000)
    low = round(since * 1000)
    high = max(round(until * 1000), low + 1)
    while low < high:
        top = min(low + chunk, high)
        yield from prometheus.query(f"{selector}[{top - low}ms]", time=top / 1000)
        low = top


def firing_series(
    prometheus: PrometheusClient,
    alert: str | None,
    start: float,
    end: float,
    interval: float,
    states: str = "firing",
) -> list[AlertSeries]:
    """`ALERTS{alertstate=~states}` series in that state between start and end, each with
    `metric`, `first` and `last`: the first and last sample of it Prometheus wrote from the
    last evaluation at or before start (up to `interval` seconds before it: see
    evaluation_interval) until end. A sample before start means the alert was in the state
    then; a Prometheus' samples never reach past the time it stopped."""
    named = f'alertname="{alert}",' if alert else ""
    selector = f'ALERTS{{{named}alertstate=~"{states}"}}'
    found: dict[tuple[tuple[str, str], ...], AlertSeries] = {}
    for series in _raw_series(prometheus, selector, start - interval, max(end, start), interval):
        key = tuple(sorted(series["metric"].items()))
        first, last = float(series["values"][0][0]), float(series["values"][-1][0])
        seen = found.setdefault(key, {"metric": series["metric"], "first": first, "last": last})
        seen["last"] = max(seen["last"], last)
    return list(found.values())
