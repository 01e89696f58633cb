"""Prometheus metrics of what users experienced; every label has a bounded set of values."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from bisect import bisect_left
from collections import Counter as CounterOf
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as metric_values
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.multiprocess import MultiProcessCollector

from signalcheck.rum_ingest.routes import LabelCap
from signalcheck.rum_ingest.rows import Row

_TYPE_AND_PAGE = attrgetter("event_type", "page")
PERSONAL_DATA = "personal_data"


class PendingRows(Protocol):
    pending_rows: int
    pending_rows_high_water: int


@dataclass(frozen=True)
class VitalSpec:
    metric: str
    description: str
    scale: float  # multiply the browser's value by this to get the metric's unit
    buckets: tuple[float, ...]  # include the good / needs-improvement thresholds of web.dev


VITALS = {
    "LCP": VitalSpec(
        "rum_web_vitals_lcp_seconds",
        "Largest Contentful Paint (good <= 2.5 s, poor > 4 s)",
        0.001,
        (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0),
    ),
    "INP": VitalSpec(
        "rum_web_vitals_inp_seconds",
        "Interaction to Next Paint (good <= 200 ms, poor > 500 ms)",
        0.001,
        (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0),
    ),
    "CLS": VitalSpec(
        "rum_web_vitals_cls",
        "Cumulative Layout Shift, unitless (good <= 0.1, poor > 0.25)",
        1.0,
        (0.01, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0),
    ),
    "FCP": VitalSpec(
        "rum_web_vitals_fcp_seconds",
        "First Contentful Paint (good <= 1.8 s, poor > 3 s)",
        0.001,
        (0.5, 1.0, 1.8, 2.5, 3.0, 4.0, 6.0, 10.0),
    ),
    "TTFB": VitalSpec(
        "rum_web_vitals_ttfb_seconds",
        "Time to First Byte (good <= 0.8 s, poor > 1.8 s)",
        0.001,
        (0.1, 0.2, 0.4, 0.8, 1.2, 1.8, 3.0, 5.0),
    ),
}

PAGE_LOAD_BUCKETS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0, 20.0)
API_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def status_class(status: int | None) -> str:
    """2xx..5xx, or `error` for a call that got no response (status 0)."""
    return f"{status // 100}xx" if status and 100 <= status <= 599 else "error"


def observe_all(child: Histogram, amounts: list[float]) -> None:
    """`child.observe(amount)` for each amount, with one increment per bucket hit.

    Histogram.observe walks the bucket bounds in Python for every value; here a bisection
    finds the bucket (the first bound >= the amount, as observe picks it), and the sum grows
    once by the amounts' sum (equal to one-by-one up to float rounding). A prometheus_client
    whose histograms lack these attributes gets the public call.
    """
    try:
        bounds, buckets, total = child._upper_bounds, child._buckets, child._sum
    except AttributeError:
        for amount in amounts:
            child.observe(amount)
        return
    total.inc(sum(amounts))
    for index, count in CounterOf(bisect_left(bounds, amount) for amount in amounts).items():
        buckets[index].inc(count)


MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_between_processes() -> Iterator[Path]:
    """Metrics created inside keep their values in files of a new directory, one file per
    process, so that a scrape of any worker adds up every worker's (prometheus_client's
    multiprocess mode: the environment variable names the directory, the value class writes
    there). The directory is removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="rum-ingest-metrics-"))
    value_class = metric_values.ValueClass
    os.environ[MULTIPROCESS_DIR] = str(directory)
    metric_values.ValueClass = metric_values.MultiProcessValue()
    try:
        yield directory
    finally:
        metric_values.ValueClass = value_class
        os.environ.pop(MULTIPROCESS_DIR, None)
        shutil.rmtree(directory, ignore_errors=True)


class RumMetrics:
    """The ingest's metrics in their own registry; pages and endpoints go through a cap.

    With `shared` (a directory made by `shared_between_processes`) a scrape reports the sums
    over every process that writes there."""

    def __init__(self, label_cap: int, shared: Path | None = None):
        self.registry = CollectorRegistry()
        self.shared = shared
        self._pending: PendingRows | None = None
        self.pages = LabelCap(label_cap)
        self.endpoints = LabelCap(label_cap)
        self._children: dict[tuple[MetricWrapperBase, tuple[str, ...]], MetricWrapperBase] = {}
        self.events = Counter(
            "rum_events_total",
            "RUM events stored, by type and page route",
            ["event_type", "page"],
            registry=self.registry,
        )
        self.page_load = Histogram(
            "rum_page_load_seconds",
            "User-perceived page load time (navigation start to load event end)",
            ["page"],
            buckets=PAGE_LOAD_BUCKETS,
            registry=self.registry,
        )
        self.api_call = Histogram(
            "rum_api_call_duration_seconds",
            "API call duration seen by the browser",
            ["endpoint", "status_class"],
            buckets=API_BUCKETS,
            registry=self.registry,
        )
        self.js_errors = Counter(
            "rum_js_errors_total",
            "Uncaught JavaScript errors and unhandled rejections",
            ["page"],
            registry=self.registry,
        )
        self.vitals = {
            name: Histogram(
                spec.metric,
                spec.description,
                ["page"],
                buckets=spec.buckets,
                registry=self.registry,
            )
            for name, spec in VITALS.items()
        }
        self.batches = Counter(
            "rum_ingest_batches_total",
            "Batches received by the ingest, by HTTP status of the answer",
            ["status"],
            registry=self.registry,
        )
        self.dropped = Counter(
            "rum_ingest_dropped_items_total",
            "Items of accepted payloads that are not stored, by item kind and reason",
            ["kind", "reason"],
            registry=self.registry,
        )
        self.dropped_attributes = Counter(
            "rum_ingest_dropped_attributes_total",
            "Attributes of stored items that are not stored (identity: user.*, enduser.*, "
            "Faro session attributes), by item kind and reason",
            ["kind", "reason"],
            registry=self.registry,
        )
        self.pending_rows = Gauge(
            "rum_ingest_pending_rows",
            "Rows received and not yet committed (past RUM_MAX_PENDING_ROWS: 503); "
            "with several workers, their sum",
            registry=self.registry,
            multiprocess_mode="sum",
        )
        self.pending_rows_high_water = Gauge(
            "rum_ingest_pending_rows_high_water",
            "The most rows that waited for their commit at once since the ingest started; "
            "with several workers, the most of one worker",
            registry=self.registry,
            multiprocess_mode="max",
        )

    def watch_pending(self, store: PendingRows) -> None:
        """Expose `store`'s rows waiting for their commit, and their most since start: read at
        each scrape of this process, and by `publish_pending` for the scrapes of the others."""
        self._pending = store

    def publish_pending(self) -> None:
        if self._pending is not None:
            self.pending_rows.set(self._pending.pending_rows)
            self.pending_rows_high_water.set(self._pending.pending_rows_high_water)

    async def keep_publishing_pending(self, every: float) -> None:
        """`publish_pending` every `every` seconds, until cancelled: what the other workers'
        scrapes read of this one."""
        while True:
            self.publish_pending()
            await asyncio.sleep(every)

    def _child(self, metric: MetricWrapperBase, *labels: str):
        """`metric.labels(*labels)`, remembered: label values are capped, so this stays small."""
        key = (metric, labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe(self, rows: list[Row]) -> None:
        """Count and time the events of a stored batch: counts are summed per label set and
        each histogram child gets its batch's values at once."""
        pages, child = self.pages, self._child
        for (event_type, page), count in CounterOf(map(_TYPE_AND_PAGE, rows)).items():
            page = pages(page)
            child(self.events, event_type, page).inc(count)
            if event_type == "error":
                child(self.js_errors, page).inc(count)
        values: defaultdict[tuple[Histogram, tuple[str, ...]], list[float]] = defaultdict(list)
        for row in rows:
            event_type = row.event_type
            if event_type == "page_load":
                values[self.page_load, (pages(row.page),)].append(row.duration_us / 1e6)
            elif event_type == "api_call":
                labels = (self.endpoints(row.name), status_class(row.status))
                values[self.api_call, labels].append(row.duration_us / 1e6)
            elif event_type == "web_vital":
                spec = VITALS[row.name]
                values[self.vitals[row.name], (pages(row.page),)].append(row.value * spec.scale)
        for (histogram, labels), amounts in values.items():
            observe_all(child(histogram, *labels), amounts)

    def drop(self, dropped: CounterOf[tuple[str, str]]) -> None:
        """Count items not stored, by (kind, reason): both from fixed sets, never user input."""
        for (kind, reason), count in dropped.items():
            self._child(self.dropped, kind, reason).inc(count)

    def drop_identities(self, identities: CounterOf[str]) -> None:
        """Count identity attributes not stored, by item kind: an event type or `session`."""
        for kind, count in identities.items():
            self._child(self.dropped_attributes, kind, PERSONAL_DATA).inc(count)

    def answered(self, status: int) -> None:
        self._child(self.batches, str(status)).inc()

    def exposition(self) -> bytes:
        self.publish_pending()
        if self.shared is None:
            return generate_latest(self.registry)
        every_process = CollectorRegistry()
        MultiProcessCollector(every_process, path=str(self.shared))
        return generate_latest(every_process)
