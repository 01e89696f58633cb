"""What a live Prometheus and Alertmanager serve, read once: the active targets, the loaded
rules, the series of the metrics the rules read, Prometheus' own config and Alertmanager's."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import yaml

from signalcheck.backends.alertmanager import AlertmanagerClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Backend
from signalcheck.errors import BackendError
from signalcheck.scaffold.expressions import metric_names

SERIES_LOOKBACK = 300.0
"""Seconds back from now whose series count as today's."""


@dataclass(frozen=True)
class Target:
    job: str
    labels: dict[str, str]
    health: str
    scrape_url: str
    last_error: str

    @property
    def address(self) -> str:
        """scheme://host:port of the scrape URL."""
        parts = urlsplit(self.scrape_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def metrics_path(self) -> str:
        return urlsplit(self.scrape_url).path or "/metrics"


@dataclass(frozen=True)
class Rule:
    name: str
    expr: str
    kind: str
    """alerting | recording"""
    labels: dict[str, str]
    for_seconds: float
    group: str
    file: str


@dataclass(frozen=True)
class Family:
    """Today's series of one metric: how many, and how many values each label takes."""

    name: str
    series: int
    label_values: dict[str, int]


@dataclass(frozen=True)
class LiveSystem:
    prometheus_url: str
    alertmanager_url: str | None
    targets: list[Target]
    rules: list[Rule]
    existing: frozenset[str]
    """Every metric name Prometheus has series of."""
    families: dict[str, Family]
    """Metric name -> its series, for the metrics the rules read that exist."""
    prometheus_config: dict[str, Any]
    alertmanager_config: dict[str, Any] | None

    @property
    def alert_rules(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.kind == "alerting"]

    @property
    def recorded(self) -> dict[str, str]:
        """Recording rule output -> the expression it records."""
        return {rule.name: rule.expr for rule in self.rules if rule.kind == "recording"}

    def rule_metrics(self) -> set[str]:
        """The metrics the rules read that no recording rule records."""
        recorded = self.recorded
        return {
            name for rule in self.rules for name in metric_names(rule.expr) if name not in recorded
        }


def _rules(prometheus: PrometheusClient) -> list[Rule]:
    return [
        Rule(
            name=str(rule["name"]),
            expr=str(rule["query"]),
            kind=str(rule["type"]),
            labels={str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
            for_seconds=float(rule.get("duration") or 0),
            group=str(group["name"]),
            file=str(group["file"]),
        )
        for group in prometheus.rules()
        for rule in group["rules"]
    ]


def _family(prometheus: PrometheusClient, name: str, now: float) -> Family:
    series = prometheus.series(name, start=now - SERIES_LOOKBACK, end=now)
    values: dict[str, set[str]] = {}
    for labels in series:
        for label, value in labels.items():
            if label != "__name__":
                values.setdefault(label, set()).add(value)
    return Family(name, len(series), {label: len(v) for label, v in sorted(values.items())})


def read_live(prometheus: Backend, alertmanager: Backend | None) -> LiveSystem:
    """Everything `init --from-prometheus` derives from; a BackendError naming the backend
    and the request when one does not answer as its API should."""
    with PrometheusClient(prometheus) as client:
        client.check_reachable()
        targets = [
            Target(
                job=str(t["labels"].get("job", t.get("scrapePool", ""))),
                labels={str(k): str(v) for k, v in t["labels"].items()},
                health=str(t["health"]),
                scrape_url=str(t["scrapeUrl"]),
                last_error=str(t.get("lastError") or ""),
            )
            for t in client.targets()
        ]
        rules = _rules(client)
        existing = frozenset(client.metric_names())
        config = yaml.safe_load(client.get_json("/api/v1/status/config")["data"]["yaml"])
        live = LiveSystem(
            prometheus_url=prometheus.base_url,
            alertmanager_url=alertmanager.base_url if alertmanager else None,
            targets=targets,
            rules=rules,
            existing=existing,
            families={},
            prometheus_config=dict(config or {}),
            alertmanager_config=_alertmanager_config(alertmanager),
        )
        now = time.time()
        families = {
            name: _family(client, name, now) for name in sorted(live.rule_metrics() & existing)
        }
    return replace(live, families=families)


def _alertmanager_config(alertmanager: Backend | None) -> dict[str, Any] | None:
    if alertmanager is None:
        return None
    with AlertmanagerClient(alertmanager) as client:
        status = client.status()
    try:
        document = yaml.safe_load(status["config"]["original"])
    except (KeyError, TypeError, yaml.YAMLError) as exc:
        raise BackendError(
            f"alertmanager: {client.last_request}: no readable config.original ({exc})"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("route"), dict):
        raise BackendError(f"alertmanager: {client.last_request}: its config has no route")
    return document
