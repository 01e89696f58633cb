"""One retry policy for every backend client (`signalcheck/backends/base.py`): 429 and 5xx are
retried with backoff until the expectation's deadline, waiting what `Retry-After` asks.

The 429 body is the one Loki's query-frontend sends when the scheduler reports too many
queued queries for the tenant: `httpgrpc.Errorf(http.StatusTooManyRequests, "too many
outstanding requests")` in grafana/loki pkg/lokifrontend/frontend/v2/
frontend_scheduler_worker.go (commit 1b6012278f1e101969fbc7d835295ca0a960b2e3).
"""

from __future__ import annotations

import math
import time
from email.utils import formatdate

import pytest

from signalcheck.backends.base import retry_after, within_deadline
from signalcheck.backends.loki import LokiClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Backend
from signalcheck.errors import BackendError
from tests.validation.documented_api import canned_server

TOO_MANY = "too many outstanding requests"
VECTOR = {"status": "success", "data": {"resultType": "vector", "result": []}}


def _sequence(*answers):
    """A route answering `answers` in turn, then the last one again."""
    queue = list(answers)

    def answer(_params):
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return answer


def test_retry_after_reads_delta_seconds_and_http_dates():
    now = 1_700_000_000.0
    assert retry_after("3", now) == 3.0
    assert retry_after(formatdate(now + 7, usegmt=True), now) == pytest.approx(7.0)
    assert retry_after(formatdate(now - 60, usegmt=True), now) == 0.0
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


def test_429_is_retried_honouring_retry_after_until_the_answer_comes():
    routes = {
        "/api/v1/query": _sequence(
            (429, TOO_MANY, {"Retry-After": "1"}), (503, "unavailable"), (200, VECTOR)
        )
    }
    with canned_server(routes) as server, PrometheusClient(Backend(url=server.url)) as prom:
        began = time.monotonic()
        with within_deadline(began + 5):
            assert prom.query("up") == []
        took = time.monotonic() - began
    assert len(server.requests) == 3
    assert 1.0 <= took < 2.5, f"Retry-After: 1 then one backoff, took {took:.2f}s"


def test_retry_after_an_http_date_is_waited_for():
    retry_at = math.ceil(time.time()) + 2  # a whole second: exactly what the date can say
    later = formatdate(retry_at, usegmt=True)
    routes = {"/api/v1/query": _sequence((429, TOO_MANY, {"Retry-After": later}), (200, VECTOR))}
    with canned_server(routes) as server, PrometheusClient(Backend(url=server.url)) as prom:
        with within_deadline(time.monotonic() + 8):
            prom.query("up")
        answered = time.time()
    assert len(server.requests) == 2
    assert answered >= retry_at - 0.05, (
        f"an HTTP-date Retry-After was not waited for (answered {retry_at - answered:.2f}s early)"
    )


def test_5xx_is_retried_for_as_long_as_the_budget_lasts_not_twice():
    routes = {"/loki/api/v1/query_range": (502, "bad gateway")}
    with canned_server(routes) as server, LokiClient(Backend(url=server.url)) as loki:
        began = time.monotonic()
        # Backoff 0.2, 0.4, 0.8, 1.6 s: five attempts fit in 4 s, four with 1.6 s of slack
        # for a loaded machine (in 2 s, four fitted with 0.6 s, and CI once made three).
        with within_deadline(began + 4.0), pytest.raises(BackendError) as raised:
            loki.query_range('{job="x"}', 0, 1)
        took = time.monotonic() - began
    assert len(server.requests) >= 4, "retried only as often as a fixed count allows"
    assert 1.4 <= took <= 4.5
    assert "returned 502: bad gateway" in str(raised.value)
    assert "would pass the deadline" in str(raised.value)


def test_a_retry_after_beyond_the_deadline_fails_at_once_saying_so():
    routes = {"/api/v1/query": (429, TOO_MANY, {"Retry-After": "120"})}
    with canned_server(routes) as server, PrometheusClient(Backend(url=server.url)) as prom:
        began = time.monotonic()
        with within_deadline(began + 3), pytest.raises(BackendError) as raised:
            prom.query("up")
        took = time.monotonic() - began
    assert len(server.requests) == 1 and took < 1.0
    message = str(raised.value)
    assert f"returned 429: {TOO_MANY}" in message
    assert "waiting 120.0s more would pass the deadline" in message


def test_a_client_error_is_not_retried():
    routes = {"/api/v1/query": (400, {"status": "error", "error": "parse error"})}
    with (
        canned_server(routes) as server,
        PrometheusClient(Backend(url=server.url)) as prom,
        pytest.raises(BackendError, match="returned 400"),
    ):
        prom.query("up{")
    assert len(server.requests) == 1
