"""The RUM ingest's read API: one browser session's events, and the web vitals of a window.

Reads are authenticated with the app's READ key (`X-API-Key`; the ingest key the SDK and the
load's RUM users send can only write): from `$SIGNALCHECK_RUM_READ_KEY`, else the local
stack's `rum-read-key` file. The key goes in a header, never in a URL, so it never appears in
`last_request` or a report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from signalcheck.backends.base import BackendClient, BackendError
from signalcheck.config import Backend, Config
from signalcheck.stack.launcher import RUM_READ_KEY_FILE

RUM_READ_KEY_ENV = "SIGNALCHECK_RUM_READ_KEY"


class RumIngestClient(BackendClient):
    name = "rum_ingest"
    health_path = "/health/ready"

    def __init__(self, backend: Backend, read_key: str, **options: Any):
        super().__init__(backend, **options)
        self._http.headers["X-API-Key"] = read_key

    def session_events(self, session_id: str) -> list[dict[str, Any]]:
        """The events of one session, first received first (`received_at`, `event_type`,
        `name`, `value`, `trace_id`, ...); empty while none has arrived."""
        return self.get_json(f"/v1/sessions/{session_id}/events")

    def web_vitals(self, since: float, until: float) -> list[dict[str, Any]]:
        """Per vital received in [since, until): `vital`, `unit`, `samples`, `p75`,
        `good_share`."""
        return self.get_json("/v1/analytics/web-vitals", window=until - since, until=until)


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
