"""One browser session's stored events, in the order the ingest received them."""

from __future__ import annotations

from pydantic import BaseModel

from signalcheck.rum_ingest.store.schema import Migratable

MAX_SESSION_EVENTS = 1000

_SESSION = """
SELECT received_at, client_time, event_type, page, name, value, duration_us, status, trace_id,
       region, message
FROM rum_events
WHERE app = :app AND session_id = :session
ORDER BY received_at, id
LIMIT :limit
"""


class SessionEvent(BaseModel):
    received_at: float
    """Server time the ingest stored the event (unix seconds)."""
    client_time: int
    """Browser time of the event (unix ms)."""
    event_type: str
    page: str
    name: str | None
    """Endpoint (`GET /health/ready`), vital (`FCP`), resource type, action, error kind, log
    level, custom event or measurement name."""
    value: float | None
    duration_seconds: float | None
    status: int | None
    trace_id: str | None
    region: str | None
    message: str | None
    """An error's or a log's message, scrubbed."""


async def session_events(
    database: Migratable, app: str, session: str, limit: int = MAX_SESSION_EVENTS
) -> list[SessionEvent]:
    """The events of `app`'s session `session`, first received first (at most `limit`)."""
    params = {"app": app, "session": session, "limit": limit}
    rows = await database.fetch(_SESSION, params)
    return [
        SessionEvent(
            received_at=received, client_time=client, event_type=kind, page=page, name=name,
            value=value, duration_seconds=None if micros is None else micros / 1e6,
            status=status, trace_id=trace_id, region=region, message=message,
        )
        for received, client, kind, page, name, value, micros, status, trace_id, region, message
        in rows
    ]  # fmt: skip
