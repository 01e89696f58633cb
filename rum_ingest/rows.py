"""Validated events -> scrubbed, route-folded rows of the `rum_events` table.

Every stored field passes the privacy filter (privacy.py) here, whatever door the event came
in by: URLs by `scrub_url`, free text by `scrub_text`, attribute maps by `scrub_attributes`
(whose identity attributes are dropped and counted by event type).
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from pydantic_core import to_json

from signalcheck.rum_ingest.models import Batch, Event
from signalcheck.rum_ingest.privacy import scrub_attributes, scrub_text, scrub_url
from signalcheck.rum_ingest.routes import RouteFolder


class Row(NamedTuple):
    """One stored event; field order is the column order of `rum_events`."""

    received_at: float  # server time, unix seconds: analytics windows use it
    client_time: int  # browser time, unix ms
    app: str
    app_version: str | None
    region: str | None
    session_id: str
    event_type: str
    url: str  # the page URL, scrubbed
    page: str  # the page's route template
    name: str | None  # endpoint, vital, resource type, action, error kind, log level,
    # custom event name or measurement name
    duration_us: int | None
    value: float | None
    status: int | None
    trace_id: str | None
    message: str | None
    attributes: str  # JSON of the event's remaining details, scrubbed


COLUMNS = Row._fields


class Rows(NamedTuple):
    rows: list[Row]
    identities: Counter[str]
    """event type -> identity attributes dropped from the batch's events of that type"""


def to_rows(batch: Batch, app: str, received_at: float, routes: RouteFolder) -> Rows:
    context = batch.get("app") or {}
    version, region = context.get("version"), context.get("region")
    version = scrub_text(version) if version else version
    region = scrub_text(region) if region else region
    identities: Counter[str] = Counter()
    rows = [
        _row(event, app, version, region, received_at, routes, identities)
        for event in batch["events"]
    ]
    return Rows(rows, identities)


def _row(
    event: Event,
    app: str,
    version: str | None,
    region: str | None,
    received_at: float,
    routes: RouteFolder,
    identities: Counter[str],
) -> Row:
    # The hot path of the ingest: plain dicts in, a positional Row out, dispatch on the type.
    url = scrub_url(event["page"]["url"])
    name = duration = value = status = message = None
    trace_id = event.get("trace_id")
    attributes: dict[str, object] = {}
    referrer = event["page"].get("referrer")
    if referrer:
        attributes["referrer"] = scrub_url(referrer)
    viewport = event.get("viewport")
    if viewport is not None:
        attributes["viewport"] = [viewport["width"], viewport["height"]]
    user_agent = event.get("user_agent")
    if user_agent:
        attributes["user_agent"] = scrub_text(user_agent)
    kind = event["type"]
    if kind == "api_call":
        api = event["api"]
        endpoint = scrub_url(api["endpoint"])
        name = f"{api['method']} {routes.endpoint(endpoint, url)}"
        duration, status, trace_id = api["duration"], api["status"], api.get("trace_id")
        attributes["url"] = endpoint
    elif kind == "web_vital":
        vital = event["vital"]
        name, value = vital["name"], vital["value"]
        if vital.get("rating"):
            attributes["rating"] = vital["rating"]
        _add_map(attributes, "attribution", vital.get("attribution"), identities, kind)
    elif kind == "page_load":
        metrics = event["metrics"]
        duration = metrics["total"]
        attributes["timings"] = {
            field: ms for field, ms in metrics.items() if ms is not None and field != "total"
        }
    elif kind == "resource_load":
        resource = event["resource"]
        name, duration = scrub_text(resource["type"])[:32], resource["duration"]
        attributes["resource"] = scrub_url(resource["name"])
        if resource.get("size") is not None:
            attributes["size"] = resource["size"]
    elif kind == "long_task":
        duration = event["duration"]
    elif kind == "user_interaction":
        interaction = event["interaction"]
        name, duration = scrub_text(interaction["action"]), interaction.get("duration")
        attributes["target"] = scrub_text(interaction["target"])
    elif kind == "error":
        error = event["error"]
        name = error.get("kind")
        name = scrub_text(name) if name else name
        message = scrub_text(error["message"])
        if error.get("stack"):
            attributes["stack"] = scrub_text(error["stack"])
    elif kind == "log":
        log = event["log"]
        name, message = log["level"], scrub_text(log["message"])
        _add_map(attributes, "context", log.get("context"), identities, kind)
    elif kind == "custom_event":
        custom = event["custom"]
        name = scrub_text(custom["name"])
        if custom.get("domain"):
            attributes["domain"] = scrub_text(custom["domain"])
        _add_map(attributes, "attributes", custom.get("attributes"), identities, kind)
    elif kind == "measurement":
        measurement = event["measurement"]
        name, value = scrub_text(measurement["name"]), measurement["value"]
        _add_map(attributes, "context", measurement.get("context"), identities, kind)
    return Row(
        received_at,
        event["timestamp"],
        app,
        version,
        region,
        event["session_id"],
        kind,
        url,
        routes.path(url),
        name,
        None if duration is None else round(duration * 1000),
        value,
        status,
        trace_id,
        message,
        to_json(attributes).decode(),
    )


def _add_map(
    attributes: dict[str, object],
    key: str,
    values: dict[str, object] | None,
    identities: Counter[str],
    kind: str,
) -> None:
    """An app's own key-value map (context, attributes, attribution) through the filter."""
    if values:
        attributes[key], dropped = scrub_attributes(values)
        if dropped:
            identities[kind] += dropped
