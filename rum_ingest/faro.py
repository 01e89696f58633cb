"""Grafana Faro Web SDK compatibility: its `/collect` payload -> this ingest's events.

Every item of a payload is accounted for. Exceptions become `error` events; web vitals
`web_vital` events (their attribution kept with them); other measurements one `measurement`
event per value; logs `log` events; the performance instrumentation's navigation and resource
timings `page_load` and `resource_load` events; every other event (`session_start`,
`view_changed`, `pushEvent`) a `custom_event`. The meta (app version, session, page, browser)
is stored with every event. What the store has no place for is counted as dropped, by kind and
reason: trace spans (they belong in the trace backend) and the meta's user (personal data); the
session's attributes are counted as dropped identity attributes. Text is scrubbed (privacy.py)
before it is cut to the store's lengths, so that a cut never leaves half a secret behind.

Field names and shapes follow faro-web-sdk 2.x: `packages/core/src/api/*/types.ts` and the
web SDK's performance and web-vitals instrumentations.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from signalcheck.rum_ingest.models import (
    MAX_DURATION_MS,
    MAX_EVENTS_PER_BATCH,
    MAX_MEASUREMENT,
    MAX_TIMESTAMP_MS,
    VITAL_NAMES,
    LogLevel,
    SessionId,
    Whole,
)
from signalcheck.rum_ingest.privacy import scrub_text, scrub_url

MAX_ITEMS = MAX_EVENTS_PER_BATCH
MAX_CONTEXT_TEXT = 512
MAX_MESSAGE = 2048
MAX_STACK = 8192
MAX_RESOURCE_BYTES = 10**12  # the most a resource_load's size may be
Text = Annotated[str, StringConstraints(max_length=2048)]
Name = Annotated[str, StringConstraints(max_length=128)]
Scalar = Annotated[str, StringConstraints(max_length=2048)] | int | float | bool | None
Context = Annotated[dict[Name, Scalar], Field(max_length=64)]
Value = Annotated[float, Field(ge=-MAX_MEASUREMENT, le=MAX_MEASUREMENT)]

NAVIGATION = "faro.performance.navigation"
RESOURCE = "faro.performance.resource"
# page_load metric <- Faro navigation attribute (ms, sent as strings)
NAVIGATION_TIMINGS = {
    "total": "duration",
    "ttfb": "ttfb",
    "dns_lookup": "dnsLookupTime",
    "tcp_connection": "tcpHandshakeTime",
    "tls_negotiation": "tlsNegotiationTime",
    "dom_processing": "domProcessingTime",
    "onload": "onLoadTime",
}
RATINGS = ("good", "needs-improvement", "poor")
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True, strict=True)


class FaroApp(_Model):
    name: Name | None = None
    version: Name | None = None
    environment: Name | None = None


class FaroSession(_Model):
    id: SessionId | None = None
    attributes: Annotated[dict[Name, Text], Field(max_length=64)] = {}
    """`setSession(session, {attributes})`: not stored, counted as identity attributes."""


class FaroPage(_Model):
    url: Text | None = None


class FaroBrowser(_Model):
    userAgent: Annotated[str, StringConstraints(max_length=512)] | None = None


class FaroUser(_Model):
    """`setUser` (faro-web-sdk's MetaUser): never stored, counted as one dropped item."""

    id: Name | None = None
    email: Name | None = None
    username: Name | None = None
    fullName: Name | None = None
    roles: Text | None = None
    hash: Name | None = None
    attributes: Annotated[dict[Name, Text], Field(max_length=64)] | None = None


class FaroMeta(_Model):
    app: FaroApp = FaroApp()
    session: FaroSession = FaroSession()
    page: FaroPage = FaroPage()
    browser: FaroBrowser = FaroBrowser()
    user: FaroUser | None = None


class FaroTrace(_Model):
    """The span an item was pushed in."""

    trace_id: Name | None = None
    span_id: Name | None = None


class _Item(_Model):
    timestamp: datetime | None = None
    """RFC 3339; a time without an offset is UTC."""
    trace: FaroTrace | None = None


class FaroMeasurement(_Item):
    type: Name
    values: dict[Name, Value] = Field(max_length=32)
    context: Context = {}


class FaroFrame(_Model):
    filename: Text | None = None
    function: Name | None = None
    lineno: Whole | None = None
    colno: Whole | None = None


class FaroStacktrace(_Model):
    frames: list[FaroFrame] = Field(default_factory=list, max_length=64)


class FaroException(_Item):
    type: Name
    value: Text
    stacktrace: FaroStacktrace | None = None


class FaroLog(_Item):
    message: Text
    level: LogLevel = "log"
    context: Context = {}


class FaroEvent(_Item):
    name: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    domain: Name | None = None
    attributes: dict[Name, Text] = Field(default_factory=dict, max_length=64)


class FaroSpan(_Model):
    """A span of an OTLP JSON trace: counted, not read."""


class FaroScopeSpans(_Model):
    spans: list[FaroSpan] = Field(default_factory=list)


class FaroResourceSpans(_Model):
    scopeSpans: list[FaroScopeSpans] = Field(default_factory=list)


class FaroTraces(_Model):
    resourceSpans: list[FaroResourceSpans] = Field(default_factory=list)


class FaroPayload(_Model):
    meta: FaroMeta = FaroMeta()
    logs: list[FaroLog] = Field(default_factory=list, max_length=MAX_ITEMS)
    exceptions: list[FaroException] = Field(default_factory=list, max_length=MAX_ITEMS)
    measurements: list[FaroMeasurement] = Field(default_factory=list, max_length=MAX_ITEMS)
    events: list[FaroEvent] = Field(default_factory=list, max_length=MAX_ITEMS)
    traces: FaroTraces | None = None


FARO_PAYLOAD = TypeAdapter(FaroPayload)


@dataclass
class FaroItems:
    """A payload as events for `EVENTS` (which validates them), and what is not stored."""

    events: list[dict[str, object]] = field(default_factory=list)
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(item kind, reason) -> items not stored; both from the fixed sets in this module."""
    session_identities: int = 0
    """The meta's session attributes, not stored."""


def _millis(timestamp: datetime | None) -> int:
    """A Faro timestamp as unix ms (now when absent), within what an event may hold: a
    browser clock before 1970 or past 2**53 - 1 ms says 0 or 2**53 - 1."""
    if timestamp is None:
        return int(time.time() * 1000)
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    return min(max(int(timestamp.timestamp() * 1000), 0), MAX_TIMESTAMP_MS)


def _number(text: str | None, upper: float = MAX_DURATION_MS) -> float | None:
    """A number Faro sends as a string ("950", or "unknown"), when it is one in [0, upper]."""
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value <= upper else None


def _cut(text: str, length: int) -> str:
    """Text scrubbed, then cut to `length` characters."""
    return scrub_text(text)[:length]


def _context(context: dict[str, str | int | float | bool | None]) -> dict[str, str]:
    return {
        key: _cut(str(value), MAX_CONTEXT_TEXT)
        for key, value in context.items()
        if value is not None
    }


def _stack(exception: FaroException) -> str | None:
    frames = exception.stacktrace.frames if exception.stacktrace else []
    lines = [
        f"  at {f.function or '?'} ({scrub_url(f.filename) if f.filename else '?'}:"
        f"{f.lineno or 0}:{f.colno or 0})"
        for f in frames
    ]
    return _cut("\n".join(lines), MAX_STACK) or None


def _timed_event(event: FaroEvent) -> tuple[str, dict[str, object]] | None:
    """A navigation or resource timing as (event type, fields), if its timings are usable."""
    attributes = event.attributes
    if event.name == NAVIGATION:
        metrics = {
            metric: _number(attributes.get(name)) for metric, name in NAVIGATION_TIMINGS.items()
        }
        return ("page_load", {"metrics": metrics}) if metrics["total"] is not None else None
    if event.name == RESOURCE:
        duration = _number(attributes.get("duration"))
        size = _number(attributes.get("transferSize"), MAX_RESOURCE_BYTES)
        if duration is None or not attributes.get("name"):
            return None
        resource = {
            "name": attributes["name"],
            "type": _cut(attributes.get("initiatorType") or "other", 128),
            "duration": duration,
            "size": None if size is None else int(size),
        }
        return "resource_load", {"resource": resource}
    return None


def _vitals(measurement: FaroMeasurement) -> list[dict[str, object]]:
    """A web-vitals measurement's vitals, each with the measurement's other values and context
    (delta, attribution, rating, navigation type) as its attribution."""
    vitals = [
        key
        for key, value in measurement.values.items()
        if key.upper() in VITAL_NAMES and 0 <= value <= MAX_DURATION_MS
    ]
    rating = measurement.context.get("rating")
    attribution: dict[str, object] = {
        key: value for key, value in measurement.values.items() if key not in vitals
    }
    attribution.update(_context(measurement.context))
    return [
        {
            "name": key.upper(),
            "value": measurement.values[key],
            "rating": rating if rating in RATINGS else None,
            "attribution": attribution,
        }
        for key in vitals
    ]


def to_events(payload: FaroPayload) -> FaroItems:
    """The payload's items as event dicts, and the count of those not stored."""
    meta = payload.meta
    items = FaroItems()

    def add(kind: str, item: _Item, **fields: object) -> None:
        trace_id = item.trace.trace_id if item.trace else None
        items.events.append(
            {
                "type": kind,
                "timestamp": _millis(item.timestamp),
                "session_id": meta.session.id or "faro-anonymous",
                "page": {"url": meta.page.url or "/"},
                "user_agent": meta.browser.userAgent,
                "trace_id": trace_id if trace_id and _TRACE_ID.match(trace_id) else None,
                **fields,
            }
        )

    for measurement in payload.measurements:
        vitals = _vitals(measurement) if measurement.type == "web-vitals" else []
        for vital in vitals:
            add("web_vital", measurement, vital=vital)
        if not vitals:
            for key, value in measurement.values.items():
                detail = {
                    "name": _cut(f"{measurement.type}.{key}", 128),
                    "value": value,
                    "context": _context(measurement.context),
                }
                add("measurement", measurement, measurement=detail)
    for exception in payload.exceptions:
        message = _cut(f"{exception.type}: {exception.value}", MAX_MESSAGE)
        error = {"kind": exception.type, "message": message, "stack": _stack(exception)}
        add("error", exception, error=error)
    for log in payload.logs:
        add(
            "log",
            log,
            log={"level": log.level, "message": log.message, "context": _context(log.context)},
        )
    for event in payload.events:
        timed = _timed_event(event)
        if timed is not None:
            kind, fields = timed
            add(kind, event, **fields)
        else:
            custom = {
                "name": event.name,
                "domain": event.domain,
                "attributes": _context(event.attributes),
            }
            add("custom_event", event, custom=custom)
    if payload.traces is not None:
        spans = sum(
            len(scope.spans)
            for resource in payload.traces.resourceSpans
            for scope in resource.scopeSpans
        )
        if spans:
            items.dropped["trace", "no_trace_store"] += spans
    if meta.user is not None and any(meta.user.model_dump().values()):
        items.dropped["meta_user", "personal_data"] += 1
    items.session_identities = len(meta.session.attributes)
    return items
