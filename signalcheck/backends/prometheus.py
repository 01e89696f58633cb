"""Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics)."""

from __future__ import annotations

from typing import Any

from signalcheck.backends.base import BackendClient, BackendError


class PrometheusClient(BackendClient):
    name = "prometheus"

    def _data(self, path: str, **params: Any) -> Any:
        body = self.get_json(path, **params)
        if body.get("status") != "success":
            raise BackendError(f"prometheus: {path} answered {body.get('error', body)}")
        return body["data"]

    def query(self, promql: str, time: float | None = None) -> list[dict[str, Any]]:
        """Instant query; the `result` list of the vector (or a one-item list for a scalar)."""
        data = self._data("/api/v1/query", query=promql, time=time)
        return data["result"] if data["resultType"] in ("vector", "matrix") else [data]

    def targets(self) -> list[dict[str, Any]]:
        return self._data("/api/v1/targets", state="active")["activeTargets"]

    def alerts(self) -> list[dict[str, Any]]:
        return self._data("/api/v1/alerts")["alerts"]

    def rules(self) -> list[dict[str, Any]]:
        return self._data("/api/v1/rules")["groups"]
