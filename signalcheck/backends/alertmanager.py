"""Alertmanager API v2."""

from __future__ import annotations

from typing import Any

from signalcheck.backends.base import BackendClient


class AlertmanagerClient(BackendClient):
    name = "alertmanager"

    def alerts(
        self, *, active: bool = True, silenced: bool = True, inhibited: bool = True
    ) -> list[dict[str, Any]]:
        return self.get_json(
            "/api/v2/alerts",
            active=str(active).lower(),
            silenced=str(silenced).lower(),
            inhibited=str(inhibited).lower(),
        )

    def status(self) -> dict[str, Any]:
        return self.get_json("/api/v2/status")
