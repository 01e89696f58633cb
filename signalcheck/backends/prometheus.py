"""Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics)."""

from __future__ import annotations

from typing import Any

from signalcheck.backends.base import BackendClient, BackendError


class PrometheusClient(BackendClient):
    name = "prometheus"
    health_path = "/api/v1/status/buildinfo"

    def _data(self, path: str, **params: Any) -> Any:
        body = self.get_json(path, **params)
        if not isinstance(body, dict) or body.get("status") != "success":
            detail = body.get("error", body) if isinstance(body, dict) else body
            raise BackendError(f"prometheus: {path} answered {detail}")
        return body["data"]

    def query(self, promql: str, time: float | None = None) -> list[dict[str, Any]]:
        """Instant query; the `result` list of the vector (or a one-item list for a scalar)."""
        data = self._data("/api/v1/query", query=promql, time=time)
        return data["result"] if data["resultType"] in ("vector", "matrix") else [data]

    def query_range(
        self, promql: str, start: float, end: float, step: float
    ) -> list[dict[str, Any]]:
        """Range query; one item per series, each with `metric` and `values` [[t, "v"], ...]."""
        return self._data("/api/v1/query_range", query=promql, start=start, end=end, step=step)[
            "result"
        ]

    def series(
        self, *matchers: str, start: float | None = None, end: float | None = None
    ) -> list[dict[str, str]]:
        """The label sets of the series matching any of `matchers`."""
        return self._data("/api/v1/series", **{"match[]": list(matchers)}, start=start, end=end)

    def metric_names(self) -> list[str]:
        """Every metric name with a series in Prometheus' retention."""
        return self._data("/api/v1/label/__name__/values")

    def targets(self) -> list[dict[str, Any]]:
        return self._data("/api/v1/targets", state="active")["activeTargets"]

    def alerts(self) -> list[dict[str, Any]]:
        return self._data("/api/v1/alerts")["alerts"]

    def rules(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Rule groups, each with `file`, `name` and `rules`; `kind` is "alert" or "record"."""
        return self._data("/api/v1/rules", type=kind)["groups"]
