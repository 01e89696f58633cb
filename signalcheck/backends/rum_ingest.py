"""The RUM ingest's read API: one browser session's events, and the web vitals of a window.

Reads are authenticated with the app's READ key (`X-API-Key`; the ingest key the SDK and the
load's RUM users send can only write): from `$SIGNALCHECK_RUM_READ_KEY`, else the local
stack's `rum-read-key` file. The key goes in a header, never in a URL, so it never appears in
`last_request` or a report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypedDict

from signalcheck.backends.base import BackendClient
from signalcheck.config import Backend, Config
from signalcheck.errors import BackendError
from signalcheck.rum_keys import RUM_READ_KEY_FILE

RUM_READ_KEY_ENV = "SIGNALCHECK_RUM_READ_KEY"


class SessionEvent(TypedDict):
    """One stored event of a session (`signalcheck.rum_ingest.store.sessions.SessionEvent`)."""

    received_at: float
    """Server time the ingest stored it (unix seconds)."""
    client_time: int
    """Browser time of the event (unix ms)."""
    event_type: str
    page: str
    name: str | None
    value: float | None
    duration_seconds: float | None
    status: int | None
    trace_id: str | None
    region: str | None
    message: str | None


class VitalStats(TypedDict):
    """One web vital's samples in a window, its p75 (seconds, CLS unitless) and good share."""

    vital: str
    unit: str
    samples: int
    p75: float
    good_share: float


class RumIngestClient(BackendClient):
    name = "rum_ingest"
    health_path = "/health/ready"

    def __init__(
        self,
        backend: Backend,
        read_key: str,
        *,
        retries: int | None = None,
        backoff: float = 0.2,
    ):
        super().__init__(backend, retries=retries, backoff=backoff)
        self._http.headers["X-API-Key"] = read_key

    def session_events(self, session_id: str) -> list[SessionEvent]:
        """The events of one session, first received first; empty while none has arrived."""
        events: list[SessionEvent] = self.get_json(f"/v1/sessions/{session_id}/events")
        return events

    def web_vitals(self, since: float, until: float) -> list[VitalStats]:
        """Per vital received in [since, until) that has samples."""
        vitals: list[VitalStats] = self.get_json(
            "/v1/analytics/web-vitals", window=until - since, until=until
        )
        return vitals


def rum_read_key(config: Config, environ: Mapping[str, str] | None = None) -> str:
    """The read key to read the RUM store with; a BackendError naming both places when neither
    holds one."""
    environ = os.environ if environ is None else environ
    if environ.get(RUM_READ_KEY_ENV, "").strip():
        return environ[RUM_READ_KEY_ENV].strip()
    path = config.stack.data_dir.resolve() / RUM_READ_KEY_FILE
    try:
        key = path.read_text().strip()
    except OSError as exc:
        raise BackendError(
            f"rum_ingest: no read key: set ${RUM_READ_KEY_ENV} or start the local stack, which "
            f"writes {path} ({exc.strerror})"
        ) from None
    if not key:
        raise BackendError(
            f"rum_ingest: no read key: {path} is empty and ${RUM_READ_KEY_ENV} is unset"
        )
    return key
