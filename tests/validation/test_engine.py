"""The evidence engine without a stack: PromQL names, polling deadlines, fail-fast backends,
trace arrival, failure messages and the expectations config."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from signalcheck.config import load_config
from signalcheck.errors import BackendUnavailable, ConfigError
from signalcheck.evidence import Context, Outcome, verifications_for
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.metrics import check_metric
from signalcheck.evidence.polling import Look, poll
from signalcheck.evidence.promql import metric_names
from signalcheck.evidence.traces import check_traces, crossed_boundary
from signalcheck.expectations import Expectations, MetricExpectation, TraceExpectation
from signalcheck.ledger import Entry
from tests.support import free_port
from tests.validation.documented_api import canned_server

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (region) (rate(http_requests_total{job="demo", status=~"5.."}[1m]))',
         {"http_requests_total"}),
        ("histogram_quantile(0.95, sum by (region, le) (rate(x_bucket[5m] offset 1h)))",
         {"x_bucket"}),
        ("a:b:ratio_rate5m > (14.4 * (1 - 0.999)) and on (region) c_total unless d",
         {"a:b:ratio_rate5m", "c_total", "d"}),
        ('{__name__="weird_name", job="x"} or absent(up{job="y"})', {"weird_name", "up"}),
        ('max_over_time(deriv(q[5m:30s])[1h:]) > bool 0 or vector(1)', {"q"}),
        ('label_replace(m, "dst", "$1", "src", "(.*)")', {"m"}),
    ],
)  # fmt: skip
def test_metric_names_of_promql(expr, names):
    assert metric_names(expr) == names


def test_poll_looks_until_done_and_gives_up_at_the_deadline():
    looks = iter([Look(done=False), Look(done=False), Look(done=True, observed="x")])
    polled = poll(lambda: next(looks), budget=5, interval=0.01)
    assert (polled.look.observed, polled.polls) == ("x", 3)
    began = time.monotonic()
    polled = poll(lambda: Look(done=False, problem="never"), budget=0.3, interval=0.05)
    assert 0.3 <= time.monotonic() - began < 1.0
    assert not polled.look.done and polled.polls >= 3
    assert poll(lambda: Look(done=False), budget=0).polls == 1


def _config(tmp_path: Path, **backends) -> Path:
    path = tmp_path / "signalcheck.yaml"
    path.write_text(
        yaml.safe_dump(
            {"regions": {"eu-west-1": {"base_url": "http://127.0.0.1:1"}}, "backends": backends}
        )
    )
    return path


def test_unreachable_backend_is_checked_once_and_named(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    config = load_config(_config(tmp_path, prometheus={"url": dead, "timeout": 1}), environ={})
    backends = BackendSet(config.backends)
    with pytest.raises(BackendUnavailable, match=rf"backend prometheus \({dead}\) failed") as first:
        backends.client("prometheus")
    began = time.monotonic()
    with pytest.raises(BackendUnavailable) as again:
        backends.client("prometheus")
    assert time.monotonic() - began < 0.01
    assert str(again.value) == str(first.value)
    with pytest.raises(BackendUnavailable, match="tempo is not configured"):
        backends.client("tempo")


def test_misconfigured_backend_url_fails_its_check(tmp_path):
    with canned_server({}) as server:  # answers 404 everywhere: not a Prometheus
        config = load_config(_config(tmp_path, prometheus={"url": server.url}), environ={})
        with pytest.raises(BackendUnavailable, match="buildinfo returned 404"):
            BackendSet(config.backends).client("prometheus")


def _span(span_id: str, name: str, parent: str = "", service: str = "demo-api") -> dict:
    return {
        "trace_id": TRACE_ID, "span_id": span_id, "parent_span_id": parent, "service": service,
        "name": name, "kind": "SERVER", "start_time": 1.0, "end_time": 2.0,
        "status_code": "UNSET", "attributes": {}, "resource": {"cloud.region": "eu-west-1"},
    }  # fmt: skip


def test_crossed_boundary_needs_a_remote_or_other_service_parent():
    server = _span("a1", "POST /auth/token", parent="ffffffffffffffff")
    child = _span("b2", "db.ping", parent="a1")
    assert crossed_boundary([server, child], ["demo-api"])
    assert not crossed_boundary([{**server, "parent_span_id": ""}, child], ["demo-api"])
    web = _span("c3", "fetch", service="web")
    api = _span("d4", "GET /", parent="c3")
    assert crossed_boundary([web, api], ["demo-api"])


@pytest.mark.parametrize(
    ("operations", "passed", "problem"),
    [
        (["POST /auth/token", "db.ping"], True, "1 trace(s) complete in capture"),
        (["POST /auth/token", "notify.assignment_created"], False,
         "incomplete after 2 span(s), missing operation 'notify.assignment_created'"),
    ],
)  # fmt: skip
def test_trace_arrives_when_stable_and_complete(tmp_path, operations, passed, problem):
    spans = [
        _span("a1", "POST /auth/token", parent="ffffffffffffffff"),
        _span("b2", "db.ping", "a1"),
    ]
    routes = {"/health": (200, {"status": "ok"}),
              f"/api/traces/{TRACE_ID}": (200, {"trace_id": TRACE_ID, "spans": spans})}  # fmt: skip
    with canned_server(routes) as server:
        config = load_config(_config(tmp_path, capture={"url": server.url}), environ={})
        probe = Entry(ts=1.0, kind="probe", check="c", region="eu-west-1", trace_id=TRACE_ID,
                      start=0.5, end=1.0, outcome="success", error_class=None)  # fmt: skip
        ctx = Context(config=config, entries=[probe], backends=BackendSet(config.backends))
        exp = TraceExpectation(name="t", services=["demo-api"], operations=operations,
                               budget=1.5, settle=0.3)  # fmt: skip
        outcome = check_traces(exp, ctx)
    assert outcome.passed is passed
    assert problem in outcome.summary
    assert outcome.waited >= 0.3  # two looks at least `settle` apart
    assert f"/api/traces/{TRACE_ID}" in outcome.query
    if not passed:
        assert "POST /auth/token" in outcome.observed


def test_failure_report_shows_expectation_query_answer_and_wait():
    outcome = Outcome(passed=False, summary="no series for region(s) eu-west-1",
                      query='up{job="demo"}', observed="[]", waited=6.04)  # fmt: skip
    report = outcome.report("metrics:up-every-region {...}")
    assert report.splitlines() == [
        "expectation: metrics:up-every-region {...}",
        "problem:     no series for region(s) eu-west-1",
        'query:       up{job="demo"}',
        "got:         []",
        "waited:      6.0s",
    ]


def test_expectations_config_errors_name_file_and_key(tmp_path):
    path = _config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["expectations"] = {"metrics": [{"name": "a", "query": "up"}, {"name": "a", "query": "x"}]}
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"signalcheck.yaml: expectations: .*duplicate .*\['a'\]"):
        load_config(path, environ={})
    raw["expectations"] = {"alerts": [{"name": "b", "alert": "X", "fault": "errors", "bugdet": 1}]}
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"expectations.alerts.0.bugdet: unknown key"):
        load_config(path, environ={})


def test_every_shipped_expectation_becomes_one_check_with_a_readable_id():
    config = load_config(Path(__file__).resolve().parents[2] / "signalcheck.yaml", environ={})
    ids = [v.id for v in verifications_for(config.expectations)]
    assert len(ids) == len(set(ids))
    assert "traces:probe-traces-complete" in ids
    kinds = {i.split(":")[0] for i in ids}
    assert kinds <= set(Expectations.model_fields)


@pytest.mark.parametrize(
    ("ended_ago", "waits"),
    [(0.0, (2.9, 3.0)), (1.0, (1.9, 2.0)), (100.0, (0.0, 0.0))],
    ids=["just-ended", "ended-a-second-ago", "an-old-run"],
)
def test_a_check_waits_only_until_its_evidence_is_due(tmp_path, ended_ago, waits):
    """Evidence is due `budget` s after the window's end: a check of a run that just ended
    waits up to that, one judged later (an old ledger, a mutate shadow after the exercise)
    looks once. The canned Prometheus answers an empty vector, as the HTTP API documents."""
    empty = {"status": "success", "data": {"resultType": "vector", "result": []}}
    routes = {"/api/v1/status/buildinfo": (200, {"status": "success", "data": {}}),
              "/api/v1/query": (200, empty)}  # fmt: skip
    with canned_server(routes) as server:
        config = load_config(_config(tmp_path, prometheus={"url": server.url}), environ={})
        end = time.time() - ended_ago
        probe = Entry(ts=end, kind="probe", region="eu-west-1", check="health", start=end - 1,
                      end=end, outcome="success")  # fmt: skip
        ctx = Context(config=config, entries=[probe], backends=BackendSet(config.backends))
        due = ctx.wait_for_due(3.0)
        outcome = check_metric(MetricExpectation(name="m", query="up", budget=3.0), ctx)
    assert waits[0] - 0.5 <= due <= waits[1]
    assert not outcome.passed
    # a loaded machine adds to the time between the two looks at the clock, never to the wait
    assert due - 1.0 <= outcome.waited <= due + 0.5
