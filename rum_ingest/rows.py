"""Validated events -> scrubbed, route-folded rows of the `rum_events` table."""

from __future__ import annotations

from typing import NamedTuple

from pydantic_core import to_json

from rum_ingest.models import (
    ApiCall,
    Batch,
    Error,
    Event,
    LongTask,
    PageLoad,
    ResourceLoad,
    UserInteraction,
    WebVital,
)
from rum_ingest.privacy import scrub_text, scrub_url
from rum_ingest.routes import RouteFolder


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
    name: str | None  # endpoint, vital, resource type, interaction action or error kind
    duration_us: int | None
    value: float | None
    status: int | None
    trace_id: str | None
    message: str | None
    attributes: str  # JSON of the event's remaining details, scrubbed


COLUMNS = Row._fields


def to_rows(batch: Batch, app: str, received_at: float, routes: RouteFolder) -> list[Row]:
    version, region = batch.app.version, batch.app.region
    return [_row(event, app, version, region, received_at, routes) for event in batch.events]


def to_row(event: Event, batch: Batch, app: str, received_at: float, routes: RouteFolder) -> Row:
    return _row(event, app, batch.app.version, batch.app.region, received_at, routes)


def _row(
    event: Event,
    app: str,
    version: str | None,
    region: str | None,
    received_at: float,
    routes: RouteFolder,
) -> Row:
    # The hot path of the ingest: a positional Row, no model_dump, dispatch on the exact type.
    page = event.page
    url = scrub_url(page.url)
    name = duration = value = status = trace_id = message = None
    attributes: dict[str, object] = {}
    if page.referrer:
        attributes["referrer"] = scrub_url(page.referrer)
    viewport = event.viewport
    if viewport is not None:
        attributes["viewport"] = [viewport.width, viewport.height]
    if event.user_agent:
        attributes["user_agent"] = event.user_agent
    kind = type(event)
    if kind is ApiCall:
        api = event.api
        endpoint = scrub_url(api.endpoint)
        name = f"{api.method} {routes.endpoint(endpoint, url)}"
        duration, status, trace_id = api.duration, api.status, api.trace_id
        attributes["url"] = endpoint
    elif kind is WebVital:
        vital = event.vital
        name, value = vital.name, vital.value
        if vital.rating:
            attributes["rating"] = vital.rating
    elif kind is PageLoad:
        metrics = event.metrics
        duration = metrics.total
        attributes["timings"] = {  # what model_dump(exclude_none) gives, in field order
            field: ms
            for field, ms in metrics.__dict__.items()
            if ms is not None and field != "total"
        }
    elif kind is ResourceLoad:
        resource = event.resource
        name, duration = resource.type[:32], resource.duration
        attributes["resource"] = scrub_url(resource.name)
        if resource.size is not None:
            attributes["size"] = resource.size
    elif kind is LongTask:
        duration = event.duration
    elif kind is UserInteraction:
        interaction = event.interaction
        name, duration = interaction.action, interaction.duration
        attributes["target"] = scrub_text(interaction.target)
    elif kind is Error:
        error = event.error
        name, message = error.kind, scrub_text(error.message)
        if error.stack:
            attributes["stack"] = scrub_text(error.stack)
    return Row(
        received_at,
        event.timestamp,
        app,
        version,
        region,
        event.session_id,
        event.type,
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
