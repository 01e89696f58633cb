"""Pushgateway: the groups pushed to it and their metrics (`/api/v1/metrics`)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from signalcheck.backends.base import BackendClient
from signalcheck.errors import BackendError


class PushedSample(TypedDict):
    labels: dict[str, str]
    value: NotRequired[str]
    """Absent from histograms and summaries, which carry `buckets` / `quantiles`."""


class MetricFamily(TypedDict):
    time_stamp: str
    type: str
    help: str
    metrics: list[PushedSample]


PushGroup = dict[str, Any]
"""One pushed group: `labels` (job, instance, ...), `last_push_successful` and one
`MetricFamily` per metric name. Any: the value's type depends on the key, which a name
chosen by the pusher is (no TypedDict can say it)."""


class PushgatewayClient(BackendClient):
    name = "pushgateway"
    health_path = "/api/v1/status"

    def groups(self) -> list[PushGroup]:
        """One item per pushed group: `labels` (job, instance, ...) and one key per metric
        family, each `{"time_stamp", "type", "help", "metrics": [{"labels", "value"}...]}`."""
        body = self.get_json("/api/v1/metrics")
        if not isinstance(body, dict) or body.get("status") != "success":
            raise BackendError(f"pushgateway: /api/v1/metrics answered {body}")
        groups: list[PushGroup] = body["data"]
        return groups

    def group(self, **labels: str) -> PushGroup | None:
        """The group whose grouping labels are exactly `labels`, or None."""
        return next((g for g in self.groups() if g["labels"] == labels), None)

    def metric_values(self, metric: str) -> list[tuple[dict[str, str], float]]:
        """(labels, value) of every sample of `metric` over all groups."""
        samples = []
        for group in self.groups():
            family: MetricFamily | None = group.get(metric)
            for sample in family["metrics"] if family else []:
                if "value" in sample:  # histograms and summaries carry buckets/quantiles
                    samples.append((sample["labels"], float(sample["value"])))
        return samples
