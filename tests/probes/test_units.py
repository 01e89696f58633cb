"""Small pieces: JSON paths, templates, trace context, bounded metric labels, push paths."""

from __future__ import annotations

import re

import pytest
from prometheus_client import generate_latest

from signalcheck.checks import Request
from signalcheck.probes.assertions import json_path
from signalcheck.probes.errors import ErrorType, ProbeFailure
from signalcheck.probes.metrics import ProbeMetrics
from signalcheck.probes.push import group_path
from signalcheck.probes.results import CheckResult
from signalcheck.probes.templates import render, render_json
from signalcheck.probes.tracecontext import CHECK_HEADER, TraceContext

DOCUMENT = {"a": {"b": [{"id": 7}, {"id": 8}]}, "odd-key": {"x": None}}


@pytest.mark.parametrize(
    ("path", "value"),
    [("$.a.b[1].id", 8), ("a.b[0]", {"id": 7}), ('$["odd-key"].x', None), ("$", DOCUMENT)],
)
def test_json_path(path, value) -> None:
    assert json_path(DOCUMENT, path) == value


@pytest.mark.parametrize("path", ["$.a.c", "$.a.b[5]", "$.a.b.id", "$..a"])
def test_json_path_misses_are_assertion_failures(path) -> None:
    with pytest.raises(ProbeFailure) as raised:
        json_path(DOCUMENT, path)
    assert raised.value.error_type is ErrorType.ASSERTION


def test_templates(monkeypatch) -> None:
    monkeypatch.setenv("PROBE_SECRET", "s3cret")
    assert render("/v1/${id}?k=${PROBE_SECRET}&d=${nope:-x}", {"id": 5}) == "/v1/5?k=s3cret&d=x"
    assert render_json({"a": ["${id}", 1]}, {"id": "z"}) == {"a": ["z", 1]}
    request = Request(path="/${a}/${b:-1}", headers={"X": "${c}"}, json={"k": "${d}"},
                      expect={"json": {"$.id": "${e}"}})  # fmt: skip
    assert request.variables() == {"a", "c", "d", "e"}
    with pytest.raises(ProbeFailure, match="no captured value or environment variable nope"):
        render("${nope}", {})


def test_traceparent_is_w3c_with_one_trace_per_run() -> None:
    trace = TraceContext.fresh("health")
    first, second = trace.headers(), trace.headers()
    pattern = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")
    (trace_a, span_a), (trace_b, span_b) = (
        pattern.match(h["traceparent"]).groups() for h in (first, second)
    )
    assert trace_a == trace_b == trace.trace_id
    assert span_a != span_b
    assert first[CHECK_HEADER] == "health"
    assert TraceContext.fresh("health").trace_id != trace.trace_id


def result(**fields) -> CheckResult:
    base = {
        "check": "health", "check_type": "http", "region": "eu", "endpoint": "health",
        "trace_id": "ab" * 16, "start": 100.0, "end": 101.5, "duration": 0.25,
        "outcome": "success", "attempts": 1,
        "phases": {"resolve": 0.001, "connect": 0.002, "tls": 0.0, "processing": 0.2,
                   "transfer": 0.01},
    }  # fmt: skip
    return CheckResult(**{**base, **fields})


def test_metrics_have_the_reference_names_and_bounded_labels() -> None:
    metrics = ProbeMetrics()
    metrics.record(result(cert_expiry=2e9))
    metrics.record(
        result(
            outcome="failure",
            error_class="connect_error",
            error="connect to http://x/y",
            attempts=3,
        )
    )
    metrics.record(
        result(check="home-page", endpoint="home-page", check_type="browser", phases={},
               web_vitals={"lcp": 0.2, "cls": 0.01, "fcp": 0.1, "ttfb": 0.02})
    )  # fmt: skip
    text = generate_latest(metrics.registry).decode()
    for line in [
        'synthetic_request_duration_seconds_count{check_type="http",endpoint="health",'
        'region="eu"} 2.0',
        'synthetic_request_success_total{endpoint="health",region="eu"} 1.0',
        'synthetic_request_failure_total{endpoint="health",error_type="connect_error",'
        'region="eu"} 1.0',
        'synthetic_check_attempts_total{check="health",region="eu"} 4.0',
        'synthetic_check_success{check="health",check_type="http",region="eu"} 0.0',
        'synthetic_check_duration_seconds{check="health",check_type="http",region="eu"} 0.25',
        'synthetic_check_last_run_timestamp_seconds{check="health",region="eu"} 101.5',
        'synthetic_http_phase_duration_seconds{check="health",phase="processing",region="eu"} 0.2',
        'synthetic_tls_cert_expiry_timestamp_seconds{check="health",region="eu"} 2e+09',
        'synthetic_web_vital_lcp_seconds{check="home-page",region="eu"} 0.2',
        'synthetic_web_vital_cls{check="home-page",region="eu"} 0.01',
    ]:
        assert line in text, line
    assert "ab" * 16 not in text
    assert "http://" not in text
    label_values = set(re.findall(r'="([^"]*)"', text))
    allowed = {"eu", "health", "home-page", "http", "browser", "connect_error",
               "resolve", "connect", "tls", "processing", "transfer"}  # fmt: skip
    assert {v for v in label_values if not re.fullmatch(r"[0-9.e+]+|\+Inf", v)} <= allowed


def test_group_path_encodes_odd_values() -> None:
    assert group_path("synthetic-probes", region="eu") == (
        "/metrics/job/synthetic-probes/region/eu"
    )
    assert group_path("j", region="a/b") == "/metrics/job/j/region@base64/YS9i"
