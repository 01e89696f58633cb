"""Validated events -> scrubbed, route-folded rows of the `rum_events` table."""

from __future__ import annotations

from typing import NamedTuple

from pydantic_core import to_json

from signalcheck.rum_ingest.models import Batch, Event
from signalcheck.rum_ingest.privacy import scrub_text, scrub_url
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


def to_rows(batch: Batch, app: str, received_at: float, routes: RouteFolder) -> list[Row]:
    context = batch.get("app") or {}
    version, region = context.get("version"), context.get("region")
    return [_row(event, app, version, region, received_at, routes) for event in batch["events"]]


def _row(
    event: Event,
    app: str,
    version: str | None,
    region: str | None,
    received_at: float,
    routes: RouteFolder,
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
        attributes["user_agent"] = user_agent
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
        attribution = vital.get("attribution")
        if attribution:
            attributes["attribution"] = {
                key: scrub_text(cause) if isinstance(cause, str) else cause
                for key, cause in attribution.items()
            }
    elif kind == "page_load":
        metrics = event["metrics"]
        duration = metrics["total"]
        attributes["timings"] = {
            field: ms for field, ms in metrics.items() if ms is not None and field != "total"
        }
    elif kind == "resource_load":
        resource = event["resource"]
        name, duration = resource["type"][:32], resource["duration"]
        attributes["resource"] = scrub_url(resource["name"])
        if resource.get("size") is not None:
            attributes["size"] = resource["size"]
    elif kind == "long_task":
        duration = event["duration"]
    elif kind == "user_interaction":
        interaction = event["interaction"]
        name, duration = interaction["action"], interaction.get("duration")
        attributes["target"] = scrub_text(interaction["target"])
    elif kind == "error":
        error = event["error"]
        name, message = error.get("kind"), scrub_text(error["message"])
        if error.get("stack"):
            attributes["stack"] = scrub_text(error["stack"])
    elif kind == "log":
        log = event["log"]
        name, message = log["level"], scrub_text(log["message"])
        _add_context(attributes, "context", log.get("context"))
    elif kind == "custom_event":
        custom = event["custom"]
        name = scrub_text(custom["name"])
        if custom.get("domain"):
            attributes["domain"] = custom["domain"]
        _add_context(attributes, "attributes", custom.get("attributes"))
    elif kind == "measurement":
        measurement = event["measurement"]
        name, value = measurement["name"], measurement["value"]
        _add_context(attributes, "context", measurement.get("context"))
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


def _add_context(attributes: dict[str, object], key: str, context: dict[str, str] | None) -> None:
    """An app's own key-value context, its values scrubbed like any free text."""
    if context:
        attributes[key] = {name: scrub_text(text) for name, text in context.items()}
