"""Trace verdicts that hold during faults and messages that name what is really missing,
against the real capture receiver: a workflow probe that failed during a fault is judged on
the steps it ran (the real demo, exporting over OTLP/HTTP, with a real fault and probe pass);
a trace that never arrived names its own region's silence, not other regions' spans; spans
without parent ids say whose the loss is.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from signalcheck.capture.store import CaptureStore
from signalcheck.config import Config, load_config
from signalcheck.evidence import Context
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.traces import check_traces
from signalcheck.expectations import TraceExpectation
from signalcheck.ledger import Entry, Ledger
from signalcheck.probes.runner import run_pass
from tests.probes.conftest import reference_checks
from tests.probes.servers import demo_server
from tests.support import REPO, capture_receiver

REGION = "eu-west-1"
OTHER_REGION = "us-east-1"
ADMIN = {"Authorization": "Bearer probe-tests"}
TIMEOUT = 5.0


@pytest.fixture
def capture(tmp_path: Path) -> Iterator[str]:
    store = CaptureStore(tmp_path / "capture.db")
    try:
        with capture_receiver(store) as url:
            yield url
    finally:
        store.close()


def _config(tmp_path: Path, capture_url: str, base_url: str = "http://127.0.0.1:1") -> Config:
    (workflow,) = [copy.deepcopy(c) for c in reference_checks() if c["type"] == "workflow"]
    workflow["retries"] = {"attempts": 1}
    raw = {
        "regions": {REGION: {"base_url": base_url}},
        "backends": {"capture": {"url": capture_url}},
        "checks": [workflow],
        "runs_dir": str(tmp_path / "runs"),
    }
    path = tmp_path / "signalcheck.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, environ={})


def _shipped_workflow_expectation(**changes: object) -> TraceExpectation:
    """The shipped probe-traces-complete: every operation of the assignment lifecycle."""
    shipped = yaml.safe_load((REPO / "signalcheck.yaml").read_text())
    (raw,) = [t for t in shipped["expectations"]["traces"] if t["name"] == "probe-traces-complete"]
    return TraceExpectation.model_validate({**raw, "settle": 0.5, "budget": 15, **changes})


def _judge(config: Config, entries: list[Entry], exp: TraceExpectation) -> Outcome:
    return check_traces(exp, Context(config=config, entries=entries, backends=BackendSet(
        config.backends)))  # fmt: skip


@pytest.mark.slow
def test_a_workflow_that_failed_during_a_fault_is_judged_on_the_steps_it_ran(
    tmp_path, capture, monkeypatch
):
    """The demo's database goes down: the lifecycle probe gets its token, then fails at
    `create` (503), and never reads or deletes. Its trace holds the spans of the two requests
    the demo answered, not the read and delete operations: no false alarm. Once the fault is
    restored a healthy probe passes, and still fails when an operation it should produce is
    missing; the failed probe with no fault in the ledger is held to every operation."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # the demo's span batches, in ms
    with demo_server(tmp_path / "demo.db", otlp_endpoint=capture) as demo_url:
        config = _config(tmp_path, capture, demo_url)
        ledger = Ledger(tmp_path / "ledger.jsonl")
        httpx.put(f"{demo_url}/admin/faults", json={"dependency_down": True}, headers=ADMIN,
                  timeout=TIMEOUT).raise_for_status()  # fmt: skip
        fault = {"action": "dependency_down", "region": REGION, "start": time.time(),
                 "experiment": ""}  # fmt: skip
        ledger.append("fault", **fault, end=None)
        (failed,) = asyncio.run(run_pass(config, [REGION], ledger))
        httpx.delete(f"{demo_url}/admin/faults", headers=ADMIN, timeout=TIMEOUT).raise_for_status()
        ledger.append("fault", **fault, end=time.time())
        (healthy,) = asyncio.run(run_pass(config, [REGION], ledger))
    assert (failed.outcome, failed.error_class, failed.failed_step) == (
        "failure", "http_status", "create"
    ), failed.error  # fmt: skip
    assert healthy.outcome == "success", healthy.error
    entries = ledger.entries()
    exp = _shipped_workflow_expectation()

    judged = _judge(config, entries, exp)
    assert judged.passed, judged.summary
    assert judged.summary == "2 trace(s) complete in capture"

    never_emitted = exp.model_copy(
        update={"operations": [*exp.operations, "never.emitted"], "budget": 2}
    )
    judged = _judge(config, entries, never_emitted)
    assert not judged.passed
    assert f"trace {healthy.trace_id} (assignment-lifecycle, {REGION}): incomplete" in (
        judged.summary
    )
    assert "missing operation 'never.emitted'" in judged.summary
    assert failed.trace_id not in judged.summary

    no_fault = [e for e in entries if e.kind != "fault"]
    judged = _judge(config, no_fault, exp.model_copy(update={"budget": 2}))
    assert not judged.passed
    assert f"trace {failed.trace_id} (assignment-lifecycle, {REGION}): incomplete" in (
        judged.summary
    )
    assert "operation 'GET /v1/assignments/{assignment_id}'" in judged.summary
    assert "(the probe itself failed at step 'create' with no fault active" in judged.summary


def _otlp_json(region: str, spans: list[dict], service: str = "demo-api") -> dict:
    """OTLP/JSON resourceSpans of `service` in `region` (hex ids, as the OTLP spec writes
    them); each span dict gives trace_id, span_id, parent (or ""), name and start."""
    return {
        "resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": service}},
                {"key": "cloud.region", "value": {"stringValue": region}},
            ]},
            "scopeSpans": [{"scope": {"name": "test"}, "spans": [{
                "traceId": s["trace_id"], "spanId": s["span_id"], "name": s["name"],
                **({"parentSpanId": s["parent"]} if s["parent"] else {}),
                "kind": "SPAN_KIND_SERVER" if not s["parent"] else "SPAN_KIND_INTERNAL",
                "startTimeUnixNano": str(int(s["start"] * 1e9)),
                "endTimeUnixNano": str(int((s["start"] + 0.01) * 1e9)),
            } for s in spans]}],
        }]
    }  # fmt: skip


def _export(capture_url: str, region: str, spans: list[dict]) -> None:
    response = httpx.post(
        f"{capture_url}/v1/traces", json=_otlp_json(region, spans), timeout=TIMEOUT
    )
    response.raise_for_status()


def _span(trace_id: str, name: str, parent: str = "", start: float | None = None) -> dict:
    return {"trace_id": trace_id, "span_id": secrets.token_hex(8), "parent": parent,
            "name": name, "start": time.time() if start is None else start}  # fmt: skip


def _probe_entry(trace_id: str, start: float, end: float, **fields: object) -> Entry:
    return Entry(ts=end, kind="probe", check="assignment-lifecycle", region=REGION,
                 trace_id=trace_id, start=start, end=end,
                 **{"outcome": "success", "error_class": None, **fields})  # fmt: skip


def test_a_failed_probe_during_a_fault_still_needs_the_spans_of_the_steps_it_ran(tmp_path, capture):
    """Failed at `read` during a fault: token, create and read were answered, so three span
    trees continue the probe's traceparent; with only token's and create's the trace is
    incomplete and says which requests' spans are missing."""
    config = _config(tmp_path, capture)
    trace_id = secrets.token_hex(16)
    start = time.time()
    token = _span(trace_id, "POST /auth/token", parent=secrets.token_hex(8), start=start)
    create = _span(trace_id, "POST /v1/assignments", parent=secrets.token_hex(8), start=start)
    _export(
        capture,
        REGION,
        [
            token,
            create,
            _span(trace_id, "db.insert_assignment", parent=create["span_id"], start=start),
        ],
    )
    end = time.time()
    fault = Entry(ts=start, kind="fault", action="latency", region=REGION, start=start - 1,
                  end=None, experiment="")  # fmt: skip
    probe = _probe_entry(trace_id, start, end, outcome="failure", error_class="assertion",
                         failed_step="read")  # fmt: skip
    judged = _judge(config, [fault, probe], _shipped_workflow_expectation(budget=1.5))
    assert not judged.passed
    assert (
        f"trace {trace_id} (assignment-lifecycle, {REGION}): incomplete after 3 span(s), "
        "missing the span(s) of 1 of the 3 request(s) the service answered up to step 'read', "
        "where the probe failed during a fault"
    ) in judged.summary
    _export(capture, REGION, [_span(trace_id, "GET /v1/assignments/{assignment_id}",
                                    parent=secrets.token_hex(8), start=start)])  # fmt: skip
    judged = _judge(config, [fault, probe], _shipped_workflow_expectation(budget=5))
    assert judged.passed, judged.summary


def test_a_missing_trace_names_its_regions_silence_not_other_regions_spans(tmp_path, capture):
    """The probe's region exported nothing while another region's service started root spans
    (untraced traffic): the hint says the probe's region sent no span at all, naming no other
    region and blaming no propagation. A root span of the probe's own region in another trace
    is the propagation hint, and it still leaves the other region out."""
    config = _config(tmp_path, capture)
    exp = _shipped_workflow_expectation(budget=0.5, settle=0.1)

    start = time.time()
    _export(capture, OTHER_REGION, [_span(secrets.token_hex(16), "GET /")])
    silent = _probe_entry(secrets.token_hex(16), start, time.time())
    judged = _judge(config, [silent], exp)
    assert not judged.passed
    assert (
        f"trace {silent.field('trace_id')} (assignment-lifecycle, {REGION}): not found — no span "
        f"of any service arrived from {REGION} (cloud.region={REGION}) during the probe: that "
        "region's exporter or the pipeline to the backend delivered nothing"
    ) == judged.summary
    assert OTHER_REGION not in judged.summary and "propagated" not in judged.summary

    time.sleep(1.1)  # past the first probe's window (its end + 0.5 s)
    start = time.time()
    _export(capture, OTHER_REGION, [_span(secrets.token_hex(16), "GET /")])
    own = _span(secrets.token_hex(16), "POST /auth/token")
    _export(capture, REGION, [own])
    unpropagated = _probe_entry(secrets.token_hex(16), start, time.time())
    judged = _judge(config, [unpropagated], exp)
    assert not judged.passed
    assert (
        f"not found — but 1 root span(s) of demo-api from {REGION} (cloud.region={REGION}) "
        f"started during the probe in other traces (e.g. 'POST /auth/token' in trace "
        f"{own['trace_id']}): the service did not continue the probe's traceparent"
    ) in judged.summary
    assert OTHER_REGION not in judged.summary


@pytest.mark.parametrize(
    ("linked", "says"),
    [
        (True, "span(s) 'POST /auth/token' of demo-api are roots of the probe's trace while its "
               "other spans carry their parent ids: the service took the trace id of the "
               "probe's traceparent but not its parent span id"),
        (False, "none of the trace's 2 span(s) carries a parent span id, though they carry the "
                "probe's trace id (its traceparent did reach the service): the parent ids are "
                "missing in the backend altogether"),
    ],
    ids=["service-dropped-the-parent", "parent-ids-lost-on-the-way"],
)  # fmt: skip
def test_spans_without_parent_ids_say_what_is_missing(tmp_path, capture, linked, says):
    """The probe's trace arrived, so its trace id reached the service, but no span continues
    the probe's context: its top spans have no parent id. With the service's child span
    linked to its parent the backend keeps parent ids (the service dropped the incoming one);
    with no parent id on any span they were lost on the way. Neither is 'traceparent was not
    propagated into the service'."""
    config = _config(tmp_path, capture)
    trace_id = secrets.token_hex(16)
    start = time.time()
    server = _span(trace_id, "POST /auth/token", start=start)
    child = _span(trace_id, "db.ping", parent=server["span_id"] if linked else "", start=start)
    _export(capture, REGION, [server, child])
    probe = _probe_entry(trace_id, start, time.time())
    exp = TraceExpectation(name="t", services=["demo-api"], operations=["db.ping"], settle=0.2,
                           budget=5)  # fmt: skip
    judged = _judge(config, [probe], exp)
    assert not judged.passed
    assert judged.summary == f"trace {trace_id} (assignment-lifecycle, {REGION}): {says}" + (
        " (its propagator or instrumentation starts a new root span), so no span continues the "
        "caller's context"
        if linked
        else ", dropped on the way (the exporter, a collector processor, the backend or its answer)"
    )
    assert "was not propagated" not in judged.summary
