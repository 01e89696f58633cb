"""SQLite store of the capture receiver: spans, logs and Alertmanager notifications, and the
number of OTLP metric data points received per service and metric (counted, not kept as
series: Prometheus is the metrics backend).

One connection (WAL mode) shared by all threads and guarded by a lock; each ``insert_*`` call
is one transaction, so a request's records are stored all together or not at all.
Attributes are stored as JSON and filtered with SQLite's JSON functions.

Query results are in chronological order; when more rows match than ``limit``, the most
recent ``limit`` rows are returned. Spans and log records come back with ``received_at``, the
time the receiver stored them: the arrival time the validators measure from.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from signalcheck.backends.capture import MAX_LIMIT
from signalcheck.capture.alerts import Notification
from signalcheck.capture.otlp import LogRecord, MetricPoints, SpanRecord
from signalcheck.private import private_file

__all__ = ["DEFAULT_LIMIT", "AttrFilter", "CaptureStore", "MetricCount"]

DEFAULT_LIMIT = 1000

AttrFilter = Mapping[str, str] | Iterable[tuple[str, str]]
"""Attribute filters: key -> expected value (compared as text; booleans as true/false)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spans (
    id             INTEGER PRIMARY KEY,
    trace_id       TEXT NOT NULL,
    span_id        TEXT NOT NULL,
    parent_span_id TEXT,
    service        TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    start_time     REAL NOT NULL,
    end_time       REAL NOT NULL,
    status_code    TEXT NOT NULL,
    attributes     TEXT NOT NULL,
    resource       TEXT NOT NULL,
    received_at    REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS spans_ids ON spans (trace_id, span_id);
CREATE INDEX IF NOT EXISTS spans_service_name ON spans (service, name, start_time);
CREATE INDEX IF NOT EXISTS spans_start ON spans (start_time);

CREATE TABLE IF NOT EXISTS logs (
    id              INTEGER PRIMARY KEY,
    time            REAL NOT NULL,
    severity_text   TEXT NOT NULL,
    severity_number INTEGER NOT NULL,
    body            TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    trace_id        TEXT,
    span_id         TEXT,
    service         TEXT NOT NULL,
    attributes      TEXT NOT NULL,
    resource        TEXT NOT NULL,
    received_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_time ON logs (time);
CREATE INDEX IF NOT EXISTS logs_trace ON logs (trace_id);

CREATE TABLE IF NOT EXISTS notifications (
    id            INTEGER PRIMARY KEY,
    received_at   REAL NOT NULL,
    receiver      TEXT NOT NULL,
    status        TEXT NOT NULL,
    alertname     TEXT NOT NULL,
    labels        TEXT NOT NULL,
    annotations   TEXT NOT NULL,
    starts_at     REAL,
    ends_at       REAL,
    fingerprint   TEXT NOT NULL,
    group_key     TEXT NOT NULL DEFAULT '',
    generator_url TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS notifications_received ON notifications (received_at);
CREATE INDEX IF NOT EXISTS notifications_alertname ON notifications (alertname, received_at);

CREATE TABLE IF NOT EXISTS metric_points (
    service        TEXT NOT NULL,
    name           TEXT NOT NULL,
    points         INTEGER NOT NULL,
    first_received REAL NOT NULL,
    last_received  REAL NOT NULL,
    PRIMARY KEY (service, name)
);
"""

_SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, service, name, kind, start_time, end_time, "
    "status_code, attributes, resource"
)
_LOG_COLUMNS = (
    "time, severity_text, severity_number, body, trace_id, span_id, service, attributes, resource"
)
_NOTIFICATION_COLUMNS = (
    "received_at, receiver, status, alertname, labels, annotations, starts_at, ends_at, "
    "fingerprint, source"
)

# json_each() value of one attribute as text; booleans as true/false like the query string.
_ATTR_TEXT = (
    "(CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.value AS TEXT) END)"
)


class MetricCount(BaseModel):
    """The data points received for one metric of one service, as `/api/metrics` returns it."""

    service: str
    """The resource's `service.name` (`unknown_service` when it has none)."""
    name: str
    """The metric's name."""
    points: int
    """Data points received, every export request added up."""
    first_received: float
    """Unix seconds of the first export request that carried the metric."""
    last_received: float
    """Unix seconds of the latest one."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _attr_pairs(attrs: AttrFilter | None) -> list[tuple[str, str]]:
    if not attrs:
        return []
    items = attrs.items() if isinstance(attrs, Mapping) else attrs
    return [(str(k), str(v)) for k, v in items]


def _attr_clauses(
    table: str, attrs: AttrFilter | None, where: list[str], params: list[Any]
) -> None:
    """Each filter k=v matches when the record's attributes or its resource has k == v."""
    for key, value in _attr_pairs(attrs):
        clauses = [
            f"EXISTS (SELECT 1 FROM json_each({table}.{column}) AS j "
            f"WHERE j.key = ? AND {_ATTR_TEXT} = ?)"
            for column in ("attributes", "resource")
        ]
        where.append("(" + " OR ".join(clauses) + ")")
        params.extend([key, value, key, value])


def _clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


class CaptureStore:
    """Spans, logs and notifications in one SQLite file (``":memory:"`` for a throwaway)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:" and not self.path.startswith("file:"):
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            private_file(Path(self.path).expanduser())  # what was captured: its owner's only
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._conn.executescript(_SCHEMA)
            self._add_source_column()
            self._conn.commit()

    def _add_source_column(self) -> None:
        """A store written before notifications had a `source` gets the column (all rows are
        then the real pipeline's)."""
        columns = {row["name"] for row in self._conn.execute("PRAGMA table_info(notifications)")}
        if "source" not in columns:
            self._conn.execute(
                "ALTER TABLE notifications ADD COLUMN source TEXT NOT NULL DEFAULT ''"
            )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> CaptureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def clear(self) -> None:
        """Delete every stored span, log and notification, and every metric count."""
        with self._lock, self._conn:
            for table in ("spans", "logs", "notifications", "metric_points"):
                self._conn.execute(f"DELETE FROM {table}")

    def counts(self) -> dict[str, int]:
        """Spans, logs and notifications stored, metric data points received."""
        with self._lock:
            counts = {
                table: self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("spans", "logs", "notifications")
            }
            points = "SELECT coalesce(sum(points), 0) FROM metric_points"
            return {**counts, "metric_points": self._conn.execute(points).fetchone()[0]}

    # ------------------------------------------------------------------ inserts

    def insert_spans(self, spans: Sequence[SpanRecord]) -> int:
        """Store spans in one transaction. A (trace_id, span_id) already stored is kept as is
        (an exporter's retry does not duplicate a span). Returns the number of new rows."""
        now = time.time()
        rows = [
            (
                s.trace_id,
                s.span_id,
                s.parent_span_id,
                s.service,
                s.name,
                s.kind,
                s.start_time,
                s.end_time,
                s.status_code,
                _dumps(s.attributes),
                _dumps(s.resource),
                now,
            )
            for s in spans
        ]
        if not rows:
            return 0
        with self._lock, self._conn:
            before = self._conn.total_changes
            self._conn.executemany(
                f"INSERT OR IGNORE INTO spans ({_SPAN_COLUMNS}, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return self._conn.total_changes - before

    def insert_logs(self, logs: Sequence[LogRecord]) -> int:
        """Store log records in one transaction. Returns the number of rows."""
        now = time.time()
        rows = [
            (
                rec.time,
                rec.severity_text,
                rec.severity_number,
                _dumps(rec.body),
                rec.body if isinstance(rec.body, str) else _dumps(rec.body),
                rec.trace_id,
                rec.span_id,
                rec.service,
                _dumps(rec.attributes),
                _dumps(rec.resource),
                now,
            )
            for rec in logs
        ]
        if not rows:
            return 0
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT INTO logs (time, severity_text, severity_number, body, body_text, "
                "trace_id, span_id, service, attributes, resource, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def insert_metric_points(self, counted: Sequence[MetricPoints]) -> int:
        """Add one export request's data points to each metric's count, in one transaction.
        Returns the number of data points."""
        now = time.time()
        rows = [(c.service, c.name, c.points, now, now) for c in counted]
        if not rows:
            return 0
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT INTO metric_points (service, name, points, first_received, "
                "last_received) VALUES (?, ?, ?, ?, ?) ON CONFLICT (service, name) DO UPDATE "
                "SET points = points + excluded.points, last_received = excluded.last_received",
                rows,
            )
        return sum(c.points for c in counted)

    def insert_notifications(
        self, notifications: Sequence[Notification], *, group_key: str = ""
    ) -> int:
        """Store notifications (one per alert) in one transaction. Returns the number of rows."""
        rows = [
            (
                n.received_at,
                n.receiver,
                n.status,
                n.alertname,
                _dumps(n.labels),
                _dumps(n.annotations),
                n.starts_at,
                n.ends_at,
                n.fingerprint,
                n.source,
                group_key,
                n.generator_url,
            )
            for n in notifications
        ]
        if not rows:
            return 0
        with self._lock, self._conn:
            self._conn.executemany(
                f"INSERT INTO notifications ({_NOTIFICATION_COLUMNS}, group_key, generator_url) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    # ------------------------------------------------------------------ queries

    def _select(self, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    @staticmethod
    def _span(row: sqlite3.Row) -> SpanRecord:
        return SpanRecord(
            trace_id=row["trace_id"],
            span_id=row["span_id"],
            parent_span_id=row["parent_span_id"],
            service=row["service"],
            name=row["name"],
            kind=row["kind"],
            start_time=row["start_time"],
            end_time=row["end_time"],
            status_code=row["status_code"],
            attributes=json.loads(row["attributes"]),
            resource=json.loads(row["resource"]),
            received_at=row["received_at"],
        )

    def get_trace(self, trace_id: str) -> list[SpanRecord]:
        """All spans of one trace (lowercase hex id), ordered by start time; [] if none."""
        rows = self._select(
            f"SELECT {_SPAN_COLUMNS}, received_at FROM spans WHERE trace_id = ? "
            "ORDER BY start_time, id",
            [trace_id.lower()],
        )
        return [self._span(r) for r in rows]

    def find_spans(
        self,
        *,
        service: str | None = None,
        name: str | None = None,
        trace_id: str | None = None,
        attrs: AttrFilter | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[SpanRecord]:
        """Spans matching every given filter (exact match; attrs match span or resource
        attributes; start/end bound the span start time, inclusive)."""
        where: list[str] = []
        params: list[Any] = []
        if service is not None:
            where.append("service = ?")
            params.append(service)
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if trace_id is not None:
            where.append("trace_id = ?")
            params.append(trace_id.lower())
        if start is not None:
            where.append("start_time >= ?")
            params.append(start)
        if end is not None:
            where.append("start_time <= ?")
            params.append(end)
        _attr_clauses("spans", attrs, where, params)
        sql = (
            f"SELECT * FROM (SELECT id, {_SPAN_COLUMNS}, received_at FROM spans"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY start_time DESC, id DESC LIMIT ?) ORDER BY start_time, id"
        )
        params.append(_clamp_limit(limit))
        return [self._span(r) for r in self._select(sql, params)]

    def find_logs(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        service: str | None = None,
        attrs: AttrFilter | None = None,
        text: str | None = None,
        severity: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[LogRecord]:
        """Log records matching every given filter.

        start/end: unix seconds, inclusive. text: case-sensitive substring of the body.
        severity: a name (e.g. ``ERROR``) matches severity_text case-insensitively; a number
        matches records whose severity_number is at least that number.
        """
        where: list[str] = []
        params: list[Any] = []
        if start is not None:
            where.append("time >= ?")
            params.append(start)
        if end is not None:
            where.append("time <= ?")
            params.append(end)
        if trace_id is not None:
            where.append("trace_id = ?")
            params.append(trace_id.lower())
        if span_id is not None:
            where.append("span_id = ?")
            params.append(span_id.lower())
        if service is not None:
            where.append("service = ?")
            params.append(service)
        if text:
            where.append("instr(body_text, ?) > 0")
            params.append(text)
        if severity:
            sev = severity.strip()
            if sev.isdigit():
                where.append("severity_number >= ?")
                params.append(int(sev))
            else:
                where.append("upper(severity_text) = upper(?)")
                params.append(sev)
        _attr_clauses("logs", attrs, where, params)
        sql = (
            f"SELECT * FROM (SELECT id, {_LOG_COLUMNS}, received_at FROM logs"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY time DESC, id DESC LIMIT ?) ORDER BY time, id"
        )
        params.append(_clamp_limit(limit))
        return [
            LogRecord(
                time=r["time"],
                severity_text=r["severity_text"],
                severity_number=r["severity_number"],
                body=json.loads(r["body"]),
                trace_id=r["trace_id"],
                span_id=r["span_id"],
                service=r["service"],
                attributes=json.loads(r["attributes"]),
                resource=json.loads(r["resource"]),
                received_at=r["received_at"],
            )
            for r in self._select(sql, params)
        ]

    def find_metrics(
        self, *, service: str | None = None, name: str | None = None
    ) -> list[MetricCount]:
        """The data points received per service and metric (exact filters), ordered by
        service and name."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("service", service), ("name", name)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = (
            "SELECT service, name, points, first_received, last_received FROM metric_points"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY service, name"
        )
        return [MetricCount(**dict(row)) for row in self._select(sql, params)]

    def find_notifications(
        self,
        *,
        alertname: str | None = None,
        receiver: str | None = None,
        status: str | None = None,
        since: float | None = None,
        labels: AttrFilter | None = None,
        source: str = "",
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[Notification]:
        """Stored notifications (one per alert per webhook call) in order of receipt.

        since: unix seconds, compared with received_at (inclusive). labels: k=v filters on
        the alert's labels (e.g. region). source: the webhook path segment they came in on
        ('' = the real pipeline's `/alertmanager/webhook`)."""
        where: list[str] = ["source = ?"]
        params: list[Any] = [source]
        for column, value in (("alertname", alertname), ("receiver", receiver), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("received_at >= ?")
            params.append(since)
        for key, value in _attr_pairs(labels):
            where.append(
                "EXISTS (SELECT 1 FROM json_each(notifications.labels) AS j "
                "WHERE j.key = ? AND j.value = ?)"
            )
            params.extend([key, value])
        sql = (
            f"SELECT * FROM (SELECT id, {_NOTIFICATION_COLUMNS}, generator_url "
            "FROM notifications"
            + " WHERE "
            + " AND ".join(where)
            + " ORDER BY received_at DESC, id DESC LIMIT ?) ORDER BY received_at, id"
        )
        params.append(_clamp_limit(limit))
        return [
            Notification(
                received_at=r["received_at"],
                receiver=r["receiver"],
                status=r["status"],
                alertname=r["alertname"],
                labels=json.loads(r["labels"]),
                annotations=json.loads(r["annotations"]),
                starts_at=r["starts_at"],
                ends_at=r["ends_at"],
                fingerprint=r["fingerprint"],
                source=r["source"],
                generator_url=r["generator_url"],
            )
            for r in self._select(sql, params)
        ]
