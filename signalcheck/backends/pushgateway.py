"""Pushgateway: the groups pushed to it and their metrics (`/api/v1/metrics`)."""

from __future__ import annotations

from typing import Any

from signalcheck.backends.base import BackendClient, BackendError


class PushgatewayClient(BackendClient):
    name = "pushgateway"
    health_path = "/api/v1/status"

    def groups(self) -> list[dict[str, Any]]:
        """One item per pushed group: `labels` (job, instance, ...) and one key per metric
        family, each `{"time_stamp", "type", "help", "metrics": [{"labels", "value"}...]}`."""
        body = self.get_json("/api/v1/metrics")
        if not isinstance(body, dict) or body.get("status") != "success":
            raise BackendError(f"pushgateway: /api/v1/metrics answered {body}")
        return body["data"]

    def group(self, **labels: str) -> dict[str, Any] | None:
        """The group whose grouping labels are exactly `labels`, or None."""
        return next((g for g in self.groups() if g["labels"] == labels), None)

    def metric_values(self, metric: str) -> list[tuple[dict[str, str], float]]:
        """(labels, value) of every sample of `metric` over all groups."""
        samples = []
        for group in self.groups():
            family = group.get(metric)
            for sample in family["metrics"] if family else []:
                if "value" in sample:  # histograms and summaries carry buckets/quantiles
                    samples.append((sample["labels"], float(sample["value"])))
        return samples
