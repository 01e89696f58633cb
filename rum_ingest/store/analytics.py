"""The reference design's three RUM questions, the web vitals summary, and the apps' own logs,
events and measurements, as SQL that SQLite and PostgreSQL answer alike.

Durations are integer microseconds and averages are computed here from exact integer sums, and
p95 is the nearest-rank percentile from window functions, so both databases give equal numbers.
Ties are broken by name in code-point order.
"""

from __future__ import annotations

from pydantic import BaseModel

from signalcheck.rum_ingest.models import VITAL_NAMES
from signalcheck.rum_ingest.store.schema import Migratable

_WINDOW = (
    "app = :app AND event_type = :event_type AND received_at >= :since AND received_at < :until"
)

# `{key}` is a column name from this module, never user input.
_DURATION_STATS = f"""
WITH ranked AS (
    SELECT {{key}} AS key, duration_us,
           ROW_NUMBER() OVER (PARTITION BY {{key}} ORDER BY duration_us) AS nth,
           COUNT(*) OVER (PARTITION BY {{key}}) AS n
    FROM rum_events
    WHERE {_WINDOW} AND duration_us IS NOT NULL AND {{key}} IS NOT NULL
)
SELECT key, COUNT(*) AS samples, SUM(duration_us) AS total_us,
       MIN(CASE WHEN nth * 100 >= n * 95 THEN duration_us END) AS p95_us
FROM ranked
GROUP BY key
ORDER BY SUM(duration_us) * 1.0 / COUNT(*) DESC, key
LIMIT :limit
"""

# `{key}` is a column name from this module, never user input.
_COUNTS = f"""
SELECT {{key}} AS key, COUNT(*) AS n, COUNT(DISTINCT session_id) AS sessions
FROM rum_events
WHERE {_WINDOW} AND {{key}} IS NOT NULL
GROUP BY {{key}}
ORDER BY COUNT(*) DESC, {{key}}
LIMIT :limit
"""

_MEASUREMENTS = f"""
WITH ranked AS (
    SELECT name, value,
           ROW_NUMBER() OVER (PARTITION BY name ORDER BY value) AS nth,
           COUNT(*) OVER (PARTITION BY name) AS n
    FROM rum_events
    WHERE {_WINDOW} AND name IS NOT NULL AND value IS NOT NULL
)
SELECT name, COUNT(*), AVG(value), MIN(value), MAX(value),
       MIN(CASE WHEN nth * 100 >= n * 75 THEN value END)
FROM ranked
GROUP BY name
ORDER BY COUNT(*) DESC, name
LIMIT :limit
"""

_VITAL = f"""
WITH ranked AS (
    SELECT value, ROW_NUMBER() OVER (ORDER BY value) AS nth, COUNT(*) OVER () AS n
    FROM rum_events
    WHERE {_WINDOW} AND name = :name AND value IS NOT NULL
)
SELECT COUNT(*), MIN(CASE WHEN nth * 100 >= n * 75 THEN value END),
       SUM(CASE WHEN value <= :good THEN 1 ELSE 0 END)
FROM ranked
"""

GOOD_VITALS = {"LCP": 2500.0, "INP": 200.0, "CLS": 0.1, "FCP": 1800.0, "TTFB": 800.0}
"""The upper bound of a "good" value per vital, in the browser's unit (ms; CLS unitless), as
web.dev rates them (https://web.dev/articles/vitals)."""


class PageLoadStats(BaseModel):
    page: str
    samples: int
    avg_load_seconds: float
    p95_load_seconds: float


class EndpointStats(BaseModel):
    endpoint: str
    calls: int
    avg_duration_seconds: float
    p95_duration_seconds: float


class VitalStats(BaseModel):
    vital: str
    unit: str
    """"s", or "" for CLS (unitless)."""
    samples: int
    p75: float
    good_share: float
    """The share of samples web.dev rates "good"."""


class PageErrors(BaseModel):
    page: str
    errors: int
    affected_sessions: int


class LogCounts(BaseModel):
    level: str
    logs: int
    sessions: int


class EventCounts(BaseModel):
    event: str
    """The name the app gave it (`pushEvent`), or `session_start`, `view_changed`, ..."""
    count: int
    sessions: int


class MeasurementStats(BaseModel):
    measurement: str
    """`type.key` of the app's `pushMeasurement`, in the app's own unit."""
    samples: int
    mean: float
    min: float
    max: float
    p75: float


def _seconds(microseconds: float) -> float:
    return round(microseconds / 1e6, 6)


async def _duration_stats(
    database: Migratable,
    key: str,
    event_type: str,
    app: str,
    since: float,
    until: float,
    limit: int,
) -> list[tuple[str, int, float, float]]:
    params = {"app": app, "event_type": event_type, "since": since, "until": until, "limit": limit}
    rows = await database.fetch(_DURATION_STATS.format(key=key), params)
    stats = [
        (k, int(n), _seconds(int(total) / int(n)), _seconds(int(p95))) for k, n, total, p95 in rows
    ]
    return sorted(stats, key=lambda s: (-s[2], s[0]))


async def page_loads(
    database: Migratable, app: str, since: float, until: float, limit: int
) -> list[PageLoadStats]:
    """Average and p95 page load time per page route, slowest first."""
    stats = await _duration_stats(database, "page", "page_load", app, since, until, limit)
    return [
        PageLoadStats(page=k, samples=n, avg_load_seconds=a, p95_load_seconds=p)
        for k, n, a, p in stats
    ]


async def slowest_endpoints(
    database: Migratable, app: str, since: float, until: float, limit: int
) -> list[EndpointStats]:
    """API endpoints by average duration seen by browsers, slowest first."""
    stats = await _duration_stats(database, "name", "api_call", app, since, until, limit)
    return [
        EndpointStats(endpoint=k, calls=n, avg_duration_seconds=a, p95_duration_seconds=p)
        for k, n, a, p in stats
    ]


async def errors_by_page(
    database: Migratable, app: str, since: float, until: float, limit: int
) -> list[PageErrors]:
    """JavaScript errors and the sessions they affected, per page route, most first."""
    rows = await _counts(database, "page", "error", app, since, until, limit)
    return [PageErrors(page=p, errors=e, affected_sessions=s) for p, e, s in rows]


async def logs_by_level(
    database: Migratable, app: str, since: float, until: float, limit: int
) -> list[LogCounts]:
    """The app's logs and the sessions that wrote them, per level, most first."""
    rows = await _counts(database, "name", "log", app, since, until, limit)
    return [LogCounts(level=k, logs=n, sessions=s) for k, n, s in rows]


async def custom_events(
    database: Migratable, app: str, since: float, until: float, limit: int
) -> list[EventCounts]:
    """The app's own events (and session starts) and their sessions, per name, most first."""
    rows = await _counts(database, "name", "custom_event", app, since, until, limit)
    return [EventCounts(event=k, count=n, sessions=s) for k, n, s in rows]


async def _counts(
    database: Migratable,
    key: str,
    event_type: str,
    app: str,
    since: float,
    until: float,
    limit: int,
) -> list[tuple[str, int, int]]:
    """(key, events, distinct sessions) per value of column `key`, most events first."""
    params = {"app": app, "event_type": event_type, "since": since, "until": until, "limit": limit}
    rows = await database.fetch(_COUNTS.format(key=key), params)
    return sorted(((k, int(n), int(s)) for k, n, s in rows), key=lambda r: (-r[1], r[0]))


async def measurements(
    database: Migratable, app: str, since: float, until: float, limit: int
) -> list[MeasurementStats]:
    """Per custom measurement: samples, mean, min, max and nearest-rank p75, most samples
    first."""
    params = {
        "app": app, "event_type": "measurement", "since": since, "until": until, "limit": limit,
    }  # fmt: skip
    rows = await database.fetch(_MEASUREMENTS, params)
    stats = [
        MeasurementStats(
            measurement=name, samples=int(n), mean=round(float(mean), 6), min=float(low),
            max=float(high), p75=float(p75),
        )
        for name, n, mean, low, high, p75 in rows
    ]  # fmt: skip
    return sorted(stats, key=lambda s: (-s.samples, s.measurement))


async def web_vitals(
    database: Migratable, app: str, since: float, until: float
) -> list[VitalStats]:
    """Per web vital received in the window: samples, nearest-rank p75 and the share rated
    good; vitals with no sample are left out."""
    stats = []
    for vital in VITAL_NAMES:
        params = {
            "app": app, "event_type": "web_vital", "since": since, "until": until,
            "name": vital, "good": GOOD_VITALS[vital],
        }  # fmt: skip
        [(samples, p75, good)] = await database.fetch(_VITAL, params)
        if samples:
            scale = 1.0 if vital == "CLS" else 0.001
            stats.append(
                VitalStats(
                    vital=vital,
                    unit="" if vital == "CLS" else "s",
                    samples=int(samples),
                    p75=round(float(p75) * scale, 6),
                    good_share=int(good) / int(samples),
                )
            )
    return stats
