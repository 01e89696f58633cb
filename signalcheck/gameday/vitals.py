"""The game day report's RUM table: the web vitals the RUM store received during the run."""

from __future__ import annotations

from signalcheck.backends.rum_ingest import RumIngestClient, rum_read_key
from signalcheck.config import Config
from signalcheck.errors import BackendError
from signalcheck.report import VitalSummary


def rum_vitals(config: Config, start: float, end: float) -> list[VitalSummary]:
    """Per web vital received in [start, end): samples, p75 and the share rated good.
    A BackendError when the RUM store is not configured, has no key or does not answer."""
    if config.backends.rum_ingest is None:
        raise BackendError("rum_ingest: not configured (set backends.rum_ingest.url)")
    with RumIngestClient(config.backends.rum_ingest, rum_read_key(config)) as store:
        return [
            VitalSummary(
                name=v["vital"],
                unit=v["unit"],
                count=v["samples"],
                p75=v["p75"],
                good_share=v["good_share"],
            )
            for v in store.web_vitals(start, end)
        ]
