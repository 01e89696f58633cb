"""Trace and log checks judge what they are given: the probe's region on every span and record,
time to appear from the backend's own arrival record (late evidence fails), Loki lines that
must carry the trace id, every error-level name, and nothing to judge in an empty run.

Backends answer from a local canned server: the capture receiver's read API in its own
shape (see tests/capture for the real receiver), Loki in the shape of grafana/loki
docs/sources/reference/loki-http-api.md (query_range streams) and
pkg/util/marshal/marshal_test.go (categorized entries with structured metadata).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from signalcheck.config import load_config
from signalcheck.evidence import Context
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.logs import check_logs, severity_number
from signalcheck.evidence.traces import arrival, check_traces
from signalcheck.expectations import LogExpectation, TraceExpectation
from signalcheck.ledger import Entry
from tests.validation.documented_api import canned_server

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c"
REGION = "eu-west-1"
END = 1_700_000_000.0
LOKI_OK = {"status": "success", "data": []}


def _context(tmp_path: Path, entries: list[Entry], **backends: dict) -> Context:
    path = tmp_path / "signalcheck.yaml"
    path.write_text(
        yaml.safe_dump(
            {"regions": {REGION: {"base_url": "http://127.0.0.1:1"}}, "backends": backends}
        )
    )
    config = load_config(path, environ={})
    return Context(config=config, entries=entries, backends=BackendSet(config.backends))


def _probe(end: float = END) -> Entry:
    return Entry(ts=end, kind="probe", check="c", region=REGION, trace_id=TRACE_ID,
                 start=end - 0.5, end=end, outcome="success", error_class=None)  # fmt: skip


def _span(span_id: str, name: str, parent: str, **extra: object) -> dict:
    return {
        "trace_id": TRACE_ID, "span_id": span_id, "parent_span_id": parent,
        "service": "demo-api", "name": name, "kind": "SERVER", "start_time": END - 0.4,
        "end_time": END - 0.1, "status_code": "UNSET", "attributes": {},
        "resource": {"service.name": "demo-api", "cloud.region": REGION}, **extra,
    }  # fmt: skip


def _trace(region: str | None = REGION, received: tuple[float, float] | None = None) -> list:
    spans = [_span("a1", "POST /auth/token", "ffffffffffffffff"), _span("b2", "db.ping", "a1")]
    for i, span in enumerate(spans):
        if region is None:
            del span["resource"]["cloud.region"]
        else:
            span["resource"]["cloud.region"] = region
        if received:
            span["received_at"] = received[i]
    return spans


def _check_trace(tmp_path: Path, spans: list, **exp: object):
    routes = {"/health": (200, {"status": "ok"}),
              f"/api/traces/{TRACE_ID}": (200, {"trace_id": TRACE_ID, "spans": spans})}  # fmt: skip
    with canned_server(routes) as server:
        ctx = _context(tmp_path, [_probe()], capture={"url": server.url})
        expectation = TraceExpectation(name="t", services=["demo-api"],
                                       operations=["POST /auth/token", "db.ping"],
                                       settle=0.2, **exp)  # fmt: skip
        return check_traces(expectation, ctx)


@pytest.mark.parametrize(
    ("region", "found"), [("us-east-1", "cloud.region us-east-1"), (None, "cloud.region none")]
)
def test_trace_spans_must_carry_the_probes_region(tmp_path, region, found):
    outcome = _check_trace(tmp_path, _trace(region))
    assert not outcome.passed
    assert f"trace {TRACE_ID} (c, {REGION}): 2 of 2 span(s) of demo-api" in outcome.summary
    assert f"resource {found} (e.g. 'POST /auth/token'), expected the probe's region " in (
        outcome.summary
    )


def test_trace_region_check_passes_the_right_region_and_can_be_disabled(tmp_path):
    assert _check_trace(tmp_path, _trace(REGION)).passed
    assert _check_trace(tmp_path, _trace("us-east-1"), region_attribute=None).passed
    custom = _trace(None)
    for span in custom:
        span["resource"]["region"] = REGION
    assert _check_trace(tmp_path, custom, region_attribute="region").passed


def test_trace_arrival_is_the_receivers_record_and_late_traces_fail(tmp_path):
    """The chaos-phase trace that arrived 293 s after its probe, against a 15 s budget: a
    failure, measured from the receiver's record, not from when the validator looked."""
    late = _check_trace(tmp_path, _trace(received=(END + 2, END + 293)), budget=15)
    assert not late.passed
    assert late.time_to_appear == pytest.approx(293)
    assert f"trace {TRACE_ID} (c, {REGION}) arrived 293.0s after the event, past the 15s" in (
        late.summary
    )
    in_time = _check_trace(tmp_path, _trace(received=(END + 1.5, END + 3)), budget=15)
    assert in_time.passed and in_time.time_to_appear == pytest.approx(3)
    assert in_time.appeared_within is None and in_time.timing() == "3.0s"


def test_trace_without_arrival_record_reports_an_upper_bound_never_judged(tmp_path):
    """Tempo and Jaeger spans carry no receive time: 'present when we looked'."""
    spans = _trace()
    routes = {"/health": (200, {"status": "ok"}),
              f"/api/traces/{TRACE_ID}": (200, {"trace_id": TRACE_ID, "spans": spans})}  # fmt: skip
    with canned_server(routes) as server:
        ctx = _context(tmp_path, [_probe(end=time.time() - 60)], capture={"url": server.url})
        outcome = check_traces(
            TraceExpectation(name="t", services=["demo-api"], settle=0.2, budget=15), ctx
        )
    assert outcome.passed and outcome.time_to_appear is None
    assert 60 <= outcome.appeared_within < 70
    assert outcome.timing().startswith("≤ 6")


def test_trace_arrival_is_the_latest_first_receipt_of_each_expected_service_and_operation():
    spans = _trace(received=(END + 1, END + 4))
    spans.append({**_span("c3", "db.ping", "a1"), "received_at": END + 9})  # a retried copy
    exp = TraceExpectation(name="t", services=["demo-api"], operations=["db.ping"])
    assert arrival(exp, spans) == END + 4
    assert arrival(exp, _trace()) is None  # no receive times: no measured arrival
    missing_op = TraceExpectation(name="t", services=["demo-api"], operations=["notify"])
    assert arrival(missing_op, spans) is None


def _log(trace_id: str = TRACE_ID, region: str | None = REGION, **extra: object) -> dict:
    resource = {"service.name": "demo-api"} | ({"cloud.region": region} if region else {})
    return {"time": END - 0.2, "severity_text": "INFO", "severity_number": 9,
            "body": "assignment created", "trace_id": trace_id, "span_id": "00f067aa0ba902b7",
            "service": "demo-api", "attributes": {}, "resource": resource, **extra}  # fmt: skip


def _check_capture_logs(tmp_path: Path, records: list[dict], entries=None, **exp: object):
    routes = {"/health": (200, {"status": "ok"}), "/api/logs": (200, {"logs": records})}
    with canned_server(routes) as server:
        ctx = _context(tmp_path, entries or [_probe()], capture={"url": server.url})
        return check_logs(LogExpectation(name="l", **exp), ctx)


def test_log_records_must_carry_the_probes_region(tmp_path):
    records = [_log(received_at=END + 1), _log(region="ap-south-1", received_at=END + 1)]
    outcome = _check_capture_logs(tmp_path, records, evidence="carry_trace_ids")
    assert not outcome.passed
    assert (
        f"trace {TRACE_ID} (c, {REGION}): 1 of 2 record(s) carry cloud.region ap-south-1, "
        f"expected the probe's region {REGION}"
    ) in outcome.summary
    assert _check_capture_logs(tmp_path, records[:1], evidence="carry_trace_ids").passed


def test_log_records_that_arrived_after_the_budget_fail(tmp_path):
    records = [_log(received_at=END + 2), _log(received_at=END + 40)]
    outcome = _check_capture_logs(tmp_path, records, evidence="carry_trace_ids", budget=15)
    assert not outcome.passed
    assert "arrived 40.0s after the event, past the 15s budget" in outcome.summary
    assert outcome.time_to_appear == pytest.approx(40)
    fine = _check_capture_logs(tmp_path, records[:1], evidence="carry_trace_ids", budget=15)
    assert fine.passed and fine.time_to_appear == pytest.approx(2)


def test_records_of_another_trace_are_not_counted(tmp_path):
    """A backend that answers a trace-id query with other records (a LogQL without the
    filter, a broken index) proves nothing about this probe."""
    outcome = _check_capture_logs(
        tmp_path, [_log(trace_id=OTHER_TRACE, received_at=END)], evidence="carry_trace_ids",
        budget=0.3,
    )  # fmt: skip
    assert not outcome.passed
    assert "no log record carries this trace id — the query returned 1 line(s), none" in (
        outcome.summary
    )


def test_no_errors_with_no_actor_entries_is_nothing_to_judge(tmp_path):
    planned_only = [Entry(ts=END, kind="planned", actor="probe")]
    outcome = _check_capture_logs(
        tmp_path, [], entries=planned_only, evidence="no_errors", settle=0.1, budget=1
    )
    assert not outcome.passed
    assert outcome.summary.startswith("nothing to judge: no probe, load or fault entry")


def _loki_streams(values: list[list], stream: dict[str, str]) -> dict:
    return {"status": "success",
            "data": {"resultType": "streams", "result": [{"stream": stream, "values": values}],
                     "stats": {}}}  # fmt: skip


def _check_loki(tmp_path: Path, body: dict, entries: list[Entry], **exp: object):
    routes = {"/loki/api/v1/labels": (200, LOKI_OK), "/loki/api/v1/query_range": (200, body)}
    with canned_server(routes) as server:
        ctx = _context(tmp_path, entries, loki={"url": server.url})
        return check_logs(LogExpectation(name="l", backend="loki", **exp), ctx)


@pytest.mark.parametrize("level", ["CRITICAL", "Fatal", "crit", "emerg", "ALERT", "err"])
def test_loki_error_names_of_any_case_count_as_errors(tmp_path, level):
    ns = str(int((END - 0.2) * 1e9))
    body = _loki_streams([[ns, f'{{"level": "{level}", "message": "disk full"}}']],
                         {"service_name": "demo-api", "cloud_region": REGION})  # fmt: skip
    outcome = _check_loki(tmp_path, body, [_probe()], evidence="no_errors",
                          logql='{service_name="demo-api"}', settle=0.1, budget=1)  # fmt: skip
    assert not outcome.passed
    assert "1 error-level record(s) in the healthy window" in outcome.summary
    assert f"{REGION} 'disk full'" in outcome.summary


def test_loki_info_lines_are_no_errors(tmp_path):
    ns = str(int((END - 0.2) * 1e9))
    body = _loki_streams([[ns, "all good"]], {"service_name": "demo-api", "level": "info"})
    outcome = _check_loki(tmp_path, body, [_probe()], evidence="no_errors",
                          logql='{service_name="demo-api"}', settle=0.1, budget=1)  # fmt: skip
    assert outcome.passed, outcome.summary


@pytest.mark.parametrize(
    ("number", "levels", "expected"),
    [(None, ("CRITICAL",), 18), ("9", ("info", "error"), 17), (17, (), 17), ("", ("x",), 0),
     (None, ("emergency",), 22), (None, ("Warning",), 13)],
)  # fmt: skip
def test_severity_is_the_highest_any_field_says(number, levels, expected):
    assert severity_number(number, *levels) == expected


def test_loki_lines_without_the_trace_id_do_not_count(tmp_path):
    """A LogQL without `| trace_id=...` returns every line of the stream: only lines that
    carry the probe's trace id are evidence."""
    ns = str(int((END - 0.2) * 1e9))
    other = _loki_streams([[ns, "GET /health 200"]], {"service_name": "demo-api"})
    outcome = _check_loki(tmp_path, other, [_probe()], evidence="carry_trace_ids",
                          logql='{service_name="demo-api"}', budget=0.3)  # fmt: skip
    assert not outcome.passed
    assert "no log record carries this trace id — the query returned 1 line(s)" in (outcome.summary)


def test_loki_otlp_records_with_trace_id_metadata_and_region_label_pass_as_upper_bound(tmp_path):
    """Loki's native OTLP ingestion: cloud.region becomes the index label `cloud_region`,
    trace_id structured metadata (categorized as in marshal_test.go)."""
    ns = str(int((END - 0.2) * 1e9))
    meta = {"structuredMetadata": {"trace_id": TRACE_ID, "span_id": "00f067aa0ba902b7",
                                   "severity_text": "INFO"}}  # fmt: skip
    stream = {"service_name": "demo-api", "cloud_region": REGION}
    ok = _check_loki(tmp_path, _loki_streams([[ns, "assignment created", meta]], stream),
                     [_probe()], evidence="carry_trace_ids",
                     logql='{service_name="demo-api"} | trace_id="{trace_id}"',
                     fields=["trace_id", "span_id", "service"], budget=5)  # fmt: skip
    assert ok.passed, ok.summary
    assert ok.time_to_appear is None and ok.appeared_within is not None
    wrong = _loki_streams([[ns, "assignment created", meta]], {**stream, "cloud_region": "x"})
    outcome = _check_loki(tmp_path, wrong, [_probe()], evidence="carry_trace_ids",
                          logql='{service_name="demo-api"}', budget=5)  # fmt: skip
    assert not outcome.passed
    assert "1 of 1 record(s) carry cloud.region x, expected the probe's region" in outcome.summary
