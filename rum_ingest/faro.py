"""Grafana Faro Web SDK compatibility: its `/collect` payload -> this ingest's events.

Web vitals (`measurements` of type `web-vitals`), `exceptions`, and the navigation and resource
timings of its performance instrumentation (`events`) become web_vital, error, page_load and
resource_load events; logs, traces and other events are accepted and not stored.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from rum_ingest.models import MAX_EVENTS_PER_BATCH, VITAL_NAMES

MAX_ITEMS = MAX_EVENTS_PER_BATCH
Text = Annotated[str, StringConstraints(max_length=2048)]
Name = Annotated[str, StringConstraints(max_length=128)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)


class FaroApp(_Model):
    name: Name | None = None
    version: Name | None = None
    environment: Name | None = None


class FaroSession(_Model):
    id: Name | None = None


class FaroPage(_Model):
    url: Text | None = None


class FaroBrowser(_Model):
    userAgent: Annotated[str, StringConstraints(max_length=512)] | None = None


class FaroMeta(_Model):
    app: FaroApp = FaroApp()
    session: FaroSession = FaroSession()
    page: FaroPage = FaroPage()
    browser: FaroBrowser = FaroBrowser()


class FaroMeasurement(_Model):
    type: Name
    values: dict[Name, float] = Field(max_length=32)
    timestamp: Name | None = None


class FaroFrame(_Model):
    filename: Text | None = None
    function: Name | None = None
    lineno: int | None = None
    colno: int | None = None


class FaroStacktrace(_Model):
    frames: list[FaroFrame] = Field(default_factory=list, max_length=64)


class FaroException(_Model):
    type: Name
    value: Text
    stacktrace: FaroStacktrace | None = None
    timestamp: Name | None = None


class FaroEvent(_Model):
    name: Name
    domain: Name | None = None
    attributes: dict[Name, Text] = Field(default_factory=dict, max_length=64)
    timestamp: Name | None = None


class FaroPayload(_Model):
    meta: FaroMeta = FaroMeta()
    logs: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_ITEMS)
    exceptions: list[FaroException] = Field(default_factory=list, max_length=MAX_ITEMS)
    measurements: list[FaroMeasurement] = Field(default_factory=list, max_length=MAX_ITEMS)
    events: list[FaroEvent] = Field(default_factory=list, max_length=MAX_ITEMS)


FARO_PAYLOAD = TypeAdapter(FaroPayload)


def _millis(timestamp: str | None) -> int:
    """Faro's ISO 8601 timestamps as unix ms (now when absent); ValueError when malformed."""
    if not timestamp:
        return int(time.time() * 1000)
    return int(datetime.fromisoformat(timestamp).timestamp() * 1000)


def _stack(exception: FaroException) -> str | None:
    frames = exception.stacktrace.frames if exception.stacktrace else []
    lines = [
        f"  at {f.function or '?'} ({f.filename or '?'}:{f.lineno or 0}:{f.colno or 0})"
        for f in frames
    ]
    return "\n".join(lines)[:8192] or None


def to_events(payload: FaroPayload) -> list[dict[str, Any]]:
    """The payload's storable items as event dicts for `BATCH` (which validates them)."""
    meta = payload.meta
    events: list[dict[str, Any]] = []

    def add(kind: str, timestamp: str | None, **fields: Any) -> None:
        events.append(
            {
                "type": kind,
                "timestamp": _millis(timestamp),
                "session_id": meta.session.id or "faro-anonymous",
                "page": {"url": meta.page.url or "/"},
                "user_agent": meta.browser.userAgent,
                **fields,
            }
        )

    for measurement in payload.measurements:
        if measurement.type == "web-vitals":
            for key, value in measurement.values.items():
                vital = {"name": key.upper(), "value": value}
                if vital["name"] in VITAL_NAMES:
                    add("web_vital", measurement.timestamp, vital=vital)
    for exception in payload.exceptions:
        message = f"{exception.type}: {exception.value}"[:2048]
        error = {"kind": exception.type, "message": message, "stack": _stack(exception)}
        add("error", exception.timestamp, error=error)
    for event in payload.events:
        attributes = event.attributes
        if event.name == "faro.performance.navigation":
            timings = {"total": attributes.get("duration"), "ttfb": attributes.get("ttfb")}
            metrics = {key: value for key, value in timings.items() if value is not None}
            add("page_load", event.timestamp, metrics=metrics)
        elif event.name == "faro.performance.resource":
            resource = {
                "name": attributes.get("name"),
                "type": attributes.get("initiatorType"),
                "duration": attributes.get("duration"),
            }
            add("resource_load", event.timestamp, resource=resource)
    return events
