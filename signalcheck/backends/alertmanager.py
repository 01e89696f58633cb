"""Alertmanager API v2."""

from __future__ import annotations

from typing import Any

from signalcheck.backends.base import BackendClient


class AlertmanagerClient(BackendClient):
    name = "alertmanager"
    health_path = "/api/v2/status"

    def alerts(
        self,
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        matchers: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Alerts with `labels`, `startsAt` and `status.state` (active|suppressed), and
        `status.inhibitedBy` / `status.silencedBy`; `matchers` like 'region="eu-west-1"'."""
        return self.get_json(
            "/api/v2/alerts",
            active=str(active).lower(),
            silenced=str(silenced).lower(),
            inhibited=str(inhibited).lower(),
            filter=matchers,
        )

    def silences(self) -> list[dict[str, Any]]:
        return self.get_json("/api/v2/silences")

    def status(self) -> dict[str, Any]:
        """Cluster, version and the loaded configuration (`config.original`)."""
        return self.get_json("/api/v2/status")
