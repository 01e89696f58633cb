"""The local stack started from `signalcheck init --with-rules`'s config loads the user's
edited copies: Prometheus their rules, Alertmanager their routes."""

from __future__ import annotations

import httpx
import pytest

from signalcheck.backends.prometheus import PrometheusClient

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def test_the_stack_runs_the_users_rules_and_routes(stack, stack_config):
    copies = {str(path) for path in stack_config.stack.rule_files}
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        groups = prometheus.rules(kind="alert")
    assert {group["file"] for group in groups} == copies
    alerts = {rule["name"] for group in groups for rule in group["rules"]}
    assert "SlowRegion" in alerts and "HighLatency" not in alerts

    status = httpx.get(f"{stack_config.backends.alertmanager.base_url}/api/v2/status", timeout=5)
    status.raise_for_status()
    receivers = status.json()["config"]["original"]
    assert "name: team-chat" in receivers and "name: chat\n" not in receivers
