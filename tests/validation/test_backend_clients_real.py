"""Prometheus, Alertmanager and Pushgateway clients against the real binaries of the stack."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from signalcheck.backends.alertmanager import AlertmanagerClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.backends.pushgateway import PushgatewayClient
from signalcheck.errors import BackendError
from signalcheck.waiting import wait_for

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def test_prometheus_instant_range_series_names_targets_rules_alerts(stack, stack_config):
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        prometheus.check_reachable()
        now = time.time()
        up = prometheus.query('up{job="demo"}')
        assert {s["metric"]["region"] for s in up} == set(stack_config.regions)
        ranged = prometheus.query_range('up{job="demo"}', now - 5, now, 1)
        assert ranged and all(s["values"] for s in ranged)
        series = prometheus.series('demo_build_info{job="demo"}', start=now - 60, end=now)
        assert {s["region"] for s in series} == set(stack_config.regions)
        assert {"demo_build_info", "demo_dependency_up"} <= set(prometheus.metric_names())
        assert {t["labels"]["job"] for t in prometheus.targets()} >= {"demo", "prometheus"}
        alerting = prometheus.rules("alert")
        names = {r["name"] for g in alerting for r in g["rules"]}
        assert {"HighErrorRate", "ServiceDown"} <= names
        assert all(r["type"] == "alerting" for g in alerting for r in g["rules"])
        assert isinstance(prometheus.alerts(), list)
        with pytest.raises(BackendError, match=r"prometheus: GET .* returned 400"):
            prometheus.query("sum(")


def test_alertmanager_alerts_silences_and_status(stack, stack_config):
    backend = stack_config.backends.alertmanager
    now = datetime.now(UTC)
    silence = {
        "matchers": [{"name": "alertname", "value": "SignalcheckClientTest", "isRegex": False}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=5)).isoformat(),
        "createdBy": "signalcheck tests",
        "comment": "client test",
    }
    alert = {"labels": {"alertname": "SignalcheckClientTest", "region": "nowhere"}}
    with AlertmanagerClient(backend) as alertmanager:
        created = httpx.post(f"{backend.base_url}/api/v2/silences", json=silence, timeout=5)
        silence_id = created.json()["silenceID"]
        try:
            httpx.post(f"{backend.base_url}/api/v2/alerts", json=[alert], timeout=5)
            silenced, _ = wait_for(
                lambda: alertmanager.alerts(matchers=['alertname="SignalcheckClientTest"']),
                timeout=10,
                what="the test alert in Alertmanager",
            )
            assert silenced[0]["status"]["state"] == "suppressed"
            assert silenced[0]["status"]["silencedBy"] == [silence_id]
            assert not alertmanager.alerts(
                silenced=False, matchers=['alertname="SignalcheckClientTest"']
            )
            assert silence_id in {s["id"] for s in alertmanager.silences()}
            status = alertmanager.status()
            assert "receiver: pager" in status["config"]["original"]
        finally:
            httpx.delete(f"{backend.base_url}/api/v2/silence/{silence_id}", timeout=5)


def test_pushgateway_groups_and_metrics(stack, stack_config):
    backend = stack_config.backends.pushgateway
    body = (
        "# TYPE signalcheck_client_test_success gauge\n"
        'signalcheck_client_test_success{check="home"} 1\n'
    )
    url = f"{backend.base_url}/metrics/job/signalcheck-client-test/region/eu-west-1"
    httpx.put(url, content=body, timeout=5).raise_for_status()
    try:
        with PushgatewayClient(backend) as pushgateway:
            pushgateway.check_reachable()
            group = pushgateway.group(job="signalcheck-client-test", region="eu-west-1")
            assert group is not None
            assert group["signalcheck_client_test_success"]["type"] == "GAUGE"
            samples = pushgateway.metric_values("signalcheck_client_test_success")
            assert samples == [
                (
                    {
                        "check": "home",
                        "instance": "",
                        "job": "signalcheck-client-test",
                        "region": "eu-west-1",
                    },
                    1.0,
                )
            ]
    finally:
        httpx.delete(url, timeout=5)
