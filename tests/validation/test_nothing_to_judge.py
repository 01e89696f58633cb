"""No evidence, no verdict: an expectation with nothing of this run to judge fails, naming the
actor that left none; only a conditional expectation whose actor was not planned skips, and
says so; `pytest validation/` stops with exit 2 on a ledger where no actor touched the system.

Prometheus answers here come from a canned server whose bodies follow the documented HTTP API
(prometheus/docs/querying/api.md: the `/api/v1/query` vector result and the
`/api/v1/targets` activeTargets list); the same checks run against the real Prometheus of the
local stack in tests/mutants and tests/validation/test_suite_on_stack.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from signalcheck.config import load_config
from signalcheck.errors import BackendUnavailable
from signalcheck.evidence import Context
from signalcheck.evidence.alerts import check_alert
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.cardinality import check_cardinality
from signalcheck.evidence.context import ONE_RUN_HINT
from signalcheck.evidence.metrics import check_metric
from signalcheck.evidence.targets import check_targets
from signalcheck.evidence.traces import check_traces
from signalcheck.expectations import (
    AlertExpectation,
    CardinalityExpectation,
    MetricExpectation,
    TargetsExpectation,
    TraceExpectation,
)
from signalcheck.ledger import Entry, Ledger
from tests.support import REPO, VALIDATION_SUITE, free_port
from tests.validation.documented_api import canned_server

REGIONS = {
    "us-east-1": {"base_url": "http://127.0.0.1:1"},
    "eu-west-1": {"base_url": "http://127.0.0.1:2"},
}
BUILDINFO = (200, {"status": "success", "data": {"version": "2.42.0"}})


def _context(tmp_path: Path, entries: list[Entry], prometheus: str | None = None) -> Context:
    backends = {"prometheus": {"url": prometheus, "timeout": 2}} if prometheus else {}
    path = tmp_path / "signalcheck.yaml"
    path.write_text(yaml.safe_dump({"regions": REGIONS, "backends": backends}))
    config = load_config(path, environ={})
    return Context(config=config, entries=entries, backends=BackendSet(config.backends))


def _probe(region: str, error_class: str | None) -> Entry:
    return Entry(ts=1.0, kind="probe", check="assignment-lifecycle", region=region,
                 trace_id="4bf92f3577b34da6a3ce929d0e0e4736", start=0.5, end=1.0,
                 outcome="success" if error_class is None else "failure",
                 error_class=error_class)  # fmt: skip


def test_traces_with_only_unreachable_probes_fail_naming_the_check(tmp_path):
    ctx = _context(tmp_path, [_probe("eu-west-1", "connect_error")])
    exp = TraceExpectation(name="t", services=["demo-api"], check="assignment-lifecycle")
    outcome = check_traces(exp, ctx)
    assert not outcome.passed and outcome.skipped is None
    assert outcome.summary == (
        "nothing to judge: no assignment-lifecycle probe reached the service in this run"
    )


def test_an_increase_with_no_successful_probe_fails(tmp_path):
    ctx = _context(tmp_path, [_probe("eu-west-1", "timeout")])
    exp = MetricExpectation(name="m", query="x_total", increase_equals="probes",
                            check="assignment-lifecycle")  # fmt: skip
    outcome = check_metric(exp, ctx)
    assert not outcome.passed and outcome.skipped is None
    assert outcome.summary == (
        "nothing to judge: no assignment-lifecycle probe run succeeded against the service "
        "in this run"
    )


@pytest.mark.parametrize(
    ("conditional", "planned", "skipped", "summary"),
    [
        (True, False, True, "conditional: this run planned no errors fault"),
        (True, True, False, "nothing to judge: errors fault was planned (errors eu-west-1 "
                            "error-injection) but never happened"),
        (False, False, False, f"nothing to judge: no errors fault in this run{ONE_RUN_HINT}"),
    ],
)  # fmt: skip
def test_alert_expectation_without_its_fault(tmp_path, conditional, planned, skipped, summary):
    entries = [_probe("eu-west-1", None)]
    if planned:
        entries.append(Entry(ts=2.0, kind="planned", actor="fault", action="errors",
                             region="eu-west-1", experiment="error-injection"))  # fmt: skip
    ctx = _context(tmp_path, entries)
    exp = AlertExpectation(name="a", alert="HighErrorRate", fault="errors",
                           conditional=conditional, receiver="pager")  # fmt: skip
    outcome = check_alert(exp, ctx)
    assert (outcome.skipped is not None) is skipped
    assert outcome.passed is skipped
    assert outcome.summary == summary


def _fault(action: str, region: str, start: float, end: float) -> Entry:
    return Entry(ts=start, kind="fault", action=action, region=region, start=start, end=end,
                 params={})  # fmt: skip


@pytest.mark.parametrize(
    ("probe_region", "probe_start", "judged"),
    [
        ("eu-west-1", 0.5, False),  # before the fault
        ("us-east-1", 10.5, False),  # during it, another region
        ("eu-west-1", 10.5, True),  # during it, its region
    ],
)  # fmt: skip
def test_a_probe_alert_judges_only_faults_with_a_probe_run_of_their_region(
    tmp_path, probe_region, probe_start, judged
):
    """needs_probes: a latency fault no probe ran during (a stock experiment with no probe
    CronJob) cannot set off SyntheticHighLatency; such a run counts as one without the fault
    (conditional: a skip saying so, though a latency fault was planned and injected)."""
    probe = _probe(probe_region, None).model_copy(update={"start": probe_start})
    planned = Entry(ts=9.0, kind="planned", actor="fault", action="latency",
                    region="eu-west-1", experiment="a stock latency experiment")  # fmt: skip
    # Prometheus on a closed port: a fault that is judged fails at once, naming the query.
    ctx = _context(tmp_path, [probe, planned, _fault("latency", "eu-west-1", 10.0, 40.0)],
                   prometheus=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    exp = AlertExpectation(name="s", alert="SyntheticHighLatency", fault="latency",
                           conditional=True, needs_probes=True, budget=0.1)  # fmt: skip
    if judged:
        assert ctx.probed_faults("latency") == ctx.faults("latency")
        with pytest.raises(BackendUnavailable, match="prometheus"):
            check_alert(exp, ctx)
        return
    assert ctx.probed_faults("latency") == []
    outcome = check_alert(exp, ctx)
    assert (outcome.passed, outcome.skipped is not None) == (True, True)
    assert outcome.summary == (
        "conditional: this run planned no latency fault with a probe run of its region during it"
    )
    unconditional = check_alert(exp.model_copy(update={"conditional": False}), ctx)
    assert not unconditional.passed and unconditional.skipped is None


@pytest.mark.parametrize(
    "title", ["A region that goes down", "A region out of rotation, then down"]
)
def test_an_alert_expectation_of_one_experiment_judges_only_its_faults(tmp_path, title):
    """`experiment`: a kill staged by the inhibition sequence is that expectation's; the plain
    region outage's kill (and its plan) is not, and alone counts as no such fault."""
    fault = _fault("kill", "eu-west-1", 10.0, 40.0).model_copy(update={"experiment": title})
    planned = Entry(ts=9.0, kind="planned", actor="fault", action="kill", region="eu-west-1",
                    experiment=title)  # fmt: skip
    ctx = _context(tmp_path, [_probe("eu-west-1", None), planned, fault],
                   prometheus=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    exp = AlertExpectation(name="i", alert="ErrorBudgetBurnFast", fault="kill", conditional=True,
                           suppressed_by="ServiceDown", experiment="A region out of rotation*",
                           budget=0.1)  # fmt: skip
    if exp.judges(title):
        with pytest.raises(BackendUnavailable, match="prometheus"):
            check_alert(exp, ctx)
        return
    outcome = check_alert(exp, ctx)
    assert (outcome.passed, outcome.skipped is not None) == (True, True)
    assert outcome.summary == (
        "conditional: this run planned no kill fault of an experiment titled "
        "'A region out of rotation*'"
    )


def _target(region: str | None, health: str = "up", error: str = "") -> dict:
    labels = {"instance": f"127.0.0.1:{free_port()}", "job": "demo"}
    if region:
        labels["region"] = region
    return {"discoveredLabels": dict(labels), "labels": labels, "scrapePool": "demo",
            "scrapeUrl": f"http://{labels['instance']}/metrics", "lastError": error,
            "lastScrape": "2026-12-01T21:00:00Z", "lastScrapeDuration": 0.002,
            "health": health, "scrapeInterval": "1s", "scrapeTimeout": "1s"}  # fmt: skip


def _vector(*series: dict) -> tuple[int, dict]:
    result = [{"metric": labels, "value": [1733000000.0, "1"]} for labels in series]
    return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}


@pytest.mark.parametrize(
    ("targets", "unlabelled", "problem"),
    [
        ([_target("us-east-1"), _target("eu-west-1")], [], ""),
        ([_target("us-east-1"), _target(None)], [], "has no label(s) ['region']"),
        ([_target("us-east-1")], [], "no target up for region(s) eu-west-1"),
        ([_target("us-east-1"), _target("eu-west-1", "down", "connection refused")], [],
         "is down: connection refused"),
        ([_target("us-east-1"), _target("eu-west-1")], [{"__name__": "http_requests_total"}],
         "have series without label 'region' (e.g. http_requests_total)"),
        ([], [], "no active target of job 'demo'"),
    ],
)  # fmt: skip
def test_targets_up_with_their_identity_label(tmp_path, targets, unlabelled, problem):
    routes = {
        "/api/v1/status/buildinfo": BUILDINFO,
        "/api/v1/targets": (200, {"status": "success",
                                  "data": {"activeTargets": targets, "droppedTargets": []}}),
        "/api/v1/query": _vector(*unlabelled),
    }  # fmt: skip
    with canned_server(routes) as server:
        ctx = _context(tmp_path, [_probe("eu-west-1", None)], prometheus=server.url)
        outcome = check_targets(TargetsExpectation(name="t", job="demo", budget=0.3), ctx)
    assert outcome.passed is (problem == "")
    assert problem in outcome.summary


ROUTE = r"(other|/|(/([a-z]+[0-9]*([_.-][a-z]+)*|\{[a-z_]+\}))+)"


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        (["/health", "/v1/assignments/{assignment_id}", "other"], ""),
        (["/v1/assignments/{assignment_id}", "/v1/assignments/81723"],
         "1 value(s) of label 'route' do not match"),
        ([f"/r{n}" for n in range(6)], "label 'route' has 6 values, more than 5"),
        ([], "no series of http_requests_total"),
    ],
)  # fmt: skip
def test_cardinality_bounds_the_values_and_their_form(tmp_path, routes, problem):
    def query(params: dict[str, list[str]]) -> tuple[int, dict]:
        promql = params["query"][0]
        assert "last_over_time(http_requests_total[" in promql  # the run's whole window
        if promql.startswith("count(") and routes:
            return 200, {"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {}, "value": [1.0, str(len(routes))]}]}}  # fmt: skip
        return _vector(*({"route": r} for r in routes))

    with canned_server({"/api/v1/status/buildinfo": BUILDINFO, "/api/v1/query": query}) as server:
        ctx = _context(tmp_path, [_probe("eu-west-1", None)], prometheus=server.url)
        exp = CardinalityExpectation(
            name="c", selector="http_requests_total", budget=0.3,
            labels={"route": {"max_values": 5, "pattern": ROUTE}},
        )  # fmt: skip
        outcome = check_cardinality(exp, ctx)
    assert outcome.passed is (problem == "")
    assert problem in outcome.summary


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ['{"ts": 1, "kind": "chaos", "experiment": "x", "phase": "method", "dry": true}'],
        ['{"ts": 1, "kind": "planned", "actor": "load"}'],
    ],
    ids=["empty", "dry-run-only", "planned-only"],
)
def test_the_suite_stops_with_exit_2_when_no_actor_touched_the_system(tmp_path, lines):
    config = tmp_path / "signalcheck.yaml"
    config.write_text(yaml.safe_dump({"regions": REGIONS, "runs_dir": str(tmp_path / "runs")}))
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("".join(line + "\n" for line in lines))
    proc = subprocess.run(
        [*VALIDATION_SUITE,
         "-n", "0", f"--signalcheck-config={config}", f"--ledger={ledger}"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "no actor touched the system in this run" in proc.stdout + proc.stderr


def test_a_ledger_entry_of_an_actor_is_enough_to_judge(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ledger.append("probe", check="health", region="eu-west-1")
    assert [e.kind for e in ledger.entries()] == ["probe"]


def test_the_suite_fails_when_every_probe_failed_to_connect(tmp_path):
    """Probe entries exist (an actor ran), but none reached the service: every evidence check
    fails, naming the check whose probes left nothing, and the suite exits 1."""
    config = tmp_path / "signalcheck.yaml"
    expectations = {
        "traces": [{"name": "probe-traces", "services": ["demo-api"],
                    "check": "assignment-lifecycle"}],
        "metrics": [{"name": "counted", "query": "demo_assignments_created_total",
                     "increase_equals": "probes", "check": "assignment-lifecycle"}],
    }  # fmt: skip
    config.write_text(yaml.safe_dump({"regions": REGIONS, "expectations": expectations}))
    ledger = Ledger(tmp_path / "ledger.jsonl")
    for region in REGIONS:
        ledger.append("probe", **_probe(region, "connect_error").model_dump(exclude={"ts", "kind"}))
    junit = tmp_path / "junit.xml"
    proc = subprocess.run(
        [*VALIDATION_SUITE,
         "-n", "0", f"--signalcheck-config={config}", f"--ledger={ledger.path}",
         f"--junitxml={junit}"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-2000:]
    report = junit.read_text()
    assert report.count("<failure") == 2
    assert "no assignment-lifecycle probe reached the service in this run" in report
    assert "no assignment-lifecycle probe run succeeded against the service" in report
