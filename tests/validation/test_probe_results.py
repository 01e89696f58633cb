"""The `probes` expectation: every (check, region) of the ledger's probe runs reached
Prometheus with its latest run's outcome and end time.

Without a stack: `judge` on query results shaped as the Prometheus HTTP API documents them
(https://prometheus.io/docs/prometheus/latest/querying/api/: an instant vector's `value`, a
range vector's (matrix) `values`, each `[unix seconds, "value"]`), and the checker against a
canned Prometheus answering those shapes. On the real stack: a real probe pass passes; a
ledger claiming another end time fails; a pass whose pushes leave the region out of the
Pushgateway grouping key (each region's PUT replacing the others') fails naming the lost
regions.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

import signalcheck.probes.push
from signalcheck.backends.pushgateway import PushgatewayClient
from signalcheck.config import Config, load_config
from signalcheck.evidence import Context
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.probe_results import (
    check_probe_results,
    exported_at,
    judge,
    latest_runs,
)
from signalcheck.expectations import ProbeResultsExpectation
from signalcheck.ledger import Entry
from tests.support import REGIONS, REPO
from tests.validation.documented_api import canned_server
from tests.validation.support import new_ledger, probe_pass

EXP = ProbeResultsExpectation(name="probe-results", budget=15)
LAST_RUN = "synthetic_check_last_run_timestamp_seconds"
SUCCESS = "synthetic_check_success"
PUSHED = {"job": "synthetic-probes"}


def probe(check: str, region: str, end: float, outcome: str = "success", **extra) -> Entry:
    return Entry(
        ts=end, kind="probe", check=check, region=region, start=end - 0.2, end=end,
        outcome=outcome, trace_id="ab" * 16, **extra,
    )  # fmt: skip


def instant(name: str, value: float, **labels: str) -> dict:
    return {"metric": {"__name__": name, **PUSHED, **labels}, "value": [time.time(), repr(value)]}


def matrix(name: str, samples: list[tuple[float, float]], **labels: str) -> dict:
    return {
        "metric": {"__name__": name, **PUSHED, **labels},
        "values": [[t, repr(v)] for t, v in samples],
    }


def problems(found) -> dict[str, str]:
    return {f"{region} {check}": f.problem for (check, region), f in found.items() if f.problem}


def test_the_latest_run_is_judged_and_its_arrival_measured_from_the_scrape():
    runs = latest_runs(
        [probe("health", "eu-west-1", 1000.0, "failure"), probe("health", "eu-west-1", 1030.25)],
        None,
    )
    labels = {"check": "health", "region": "eu-west-1"}
    found = judge(
        EXP,
        runs,
        [instant(LAST_RUN, 1030.25, **labels)],
        [matrix(LAST_RUN, [(1001.0, 1000.0), (1031.5, 1030.25), (1032.5, 1030.25)], **labels)],
        [matrix(SUCCESS, [(1001.0, 0), (1031.5, 1), (1032.5, 1)], check_type="http", **labels)],
    )
    [(pair, result)] = found.items()
    assert pair == ("health", "eu-west-1")
    assert (result.problem, result.arrival) == ("", pytest.approx(1.25))


def push(region: str, at: float, *checks: str) -> Entry:
    return Entry(ts=at, kind="push", region=region, job="synthetic-probes", checks=list(checks))


@pytest.mark.parametrize(
    ("pushes", "arrival"),
    [
        # the pass pushed when its browser check ended, 12 s after the health check
        ([push("eu-west-1", 1042.0, "health", "home-page")], 1.5),
        # no push entry (the daemon's /metrics): from the run's end
        ([], 13.5),
        # another region's push, a push without the check, an earlier pass's push: not its
        (
            [
                push("us-east-1", 1042.0, "health"),
                push("eu-west-1", 1042.0, "home-page"),
                push("eu-west-1", 1000.0, "health"),
            ],
            13.5,
        ),
    ],
)
def test_the_arrival_counts_from_the_push_that_carried_the_run(pushes, arrival):
    labels = {"check": "health", "region": "eu-west-1"}
    runs = latest_runs([probe("health", "eu-west-1", 1030.0)], None)
    found = judge(
        EXP,
        runs,
        [instant(LAST_RUN, 1030.0, **labels)],
        [matrix(LAST_RUN, [(1043.5, 1030.0)], **labels)],
        [matrix(SUCCESS, [(1043.5, 1)], check_type="http", **labels)],
        exported_at(runs, pushes),
    )
    assert found[("health", "eu-west-1")].arrival == pytest.approx(arrival)


def test_failed_runs_are_judged_too_their_result_is_a_zero():
    labels = {"check": "health", "region": "us-east-1"}
    runs = latest_runs(
        [probe("health", "us-east-1", 500.0, "failure", error_class="timeout")], None
    )
    zero = [matrix(SUCCESS, [(501.0, 0)], check_type="http", **labels)]
    one = [matrix(SUCCESS, [(501.0, 1)], check_type="http", **labels)]
    now, history = (
        [instant(LAST_RUN, 500.0, **labels)],
        [matrix(LAST_RUN, [(501.0, 500.0)], **labels)],
    )
    assert problems(judge(EXP, runs, now, history, zero)) == {}
    assert problems(judge(EXP, runs, now, history, one)) == {
        "us-east-1 health": "us-east-1 health: synthetic_check_success is 1, the ledger's latest "
        "run was a failure (want 0)"
    }


def test_lost_stale_and_never_scraped_results_are_each_named():
    entries = [
        probe("health", "us-east-1", 900.0),  # lost: no series at all
        probe("health", "eu-west-1", 800.0),
        probe("health", "eu-west-1", 900.0),  # Prometheus still holds the 800.0 run
        probe("health", "ap-south-1", 900.0),  # Prometheus holds 700.0: not this ledger's
        probe("workflow", "ap-south-1", 900.0),  # holds a later run; 900.0 never scraped
    ]
    eu, ap = {"region": "eu-west-1"}, {"region": "ap-south-1"}
    now = [
        instant(LAST_RUN, 800.0, check="health", **eu),
        instant(LAST_RUN, 700.0, check="health", **ap),
        instant(LAST_RUN, 950.0, check="workflow", **ap),
    ]
    history = [matrix(LAST_RUN, [(951.0, 950.0)], check="workflow", **ap)]
    found = problems(judge(EXP, latest_runs(entries, None), now, history, []))
    assert set(found) == {
        "us-east-1 health", "eu-west-1 health", "ap-south-1 health", "ap-south-1 workflow",
    }  # fmt: skip
    assert "no synthetic_check_last_run_timestamp_seconds series" in found["us-east-1 health"]
    assert "Pushgateway grouping" in found["us-east-1 health"]
    assert "an earlier run of this ledger" in found["eu-west-1 health"]
    assert "100.0s before" in found["eu-west-1 health"]
    assert "a stale push" in found["ap-south-1 health"]
    assert "never scraped this run's end 900.000" in found["ap-south-1 workflow"]


def _canned_config(tmp_path: Path, url: str) -> Config:
    path = tmp_path / "signalcheck.yaml"
    regions = {name: {"base_url": "http://127.0.0.1:1"} for name in REGIONS}
    path.write_text(yaml.safe_dump({"regions": regions, "backends": {"prometheus": {"url": url}}}))
    return load_config(path, environ={})


def _canned_prometheus(end: float, scraped_at: float):
    """Answers like Prometheus holding one health result of eu-west-1, scraped at `scraped_at`."""
    labels = {"check": "health", "region": "eu-west-1"}

    def query(params: dict[str, list[str]]) -> tuple[int, dict]:
        promql = params["query"][0]
        if "[" not in promql:
            data = {"resultType": "vector", "result": [instant(LAST_RUN, end, **labels)]}
        else:
            name, value, more = (
                (LAST_RUN, end, {})
                if promql.startswith(LAST_RUN)
                else (SUCCESS, 1, {"check_type": "http"})
            )
            data = {
                "resultType": "matrix",
                "result": [matrix(name, [(scraped_at, value)], **labels, **more)],
            }
        return 200, {"status": "success", "data": data}

    build = {"status": "success", "data": {"version": "2.45.0"}}
    return {"/api/v1/status/buildinfo": (200, build), "/api/v1/query": query}


@pytest.mark.parametrize(
    ("after", "passed", "summary"),
    [
        (2.5, True, "1 (check, region) result(s) in Prometheus"),
        (20.0, False, "eu-west-1 health result arrived 20.0s after the event, past the 15s budget"),
    ],
)
def test_arrival_after_the_budget_fails(tmp_path, after, passed, summary):
    end = time.time() - 30
    with canned_server(_canned_prometheus(end, end + after)) as server:
        config = _canned_config(tmp_path, server.url)
        ctx = Context(
            config=config,
            entries=[probe("health", "eu-west-1", end)],
            backends=BackendSet(config.backends),
        )
        outcome = check_probe_results(EXP, ctx)
    assert (outcome.passed, outcome.time_to_appear) == (passed, pytest.approx(after))
    assert summary in outcome.summary
    assert outcome.timing() == f"{after:.1f}s"
    queried = [r.params["query"][0] for r in server.requests if r.path == "/api/v1/query"]
    assert LAST_RUN in queried and any(q.startswith(f"{SUCCESS}[") for q in queried)


def test_no_probe_entry_is_nothing_to_judge_naming_the_check(tmp_path):
    config = _canned_config(tmp_path, "http://127.0.0.1:1")
    entries = [probe("health", "eu-west-1", 100.0)]
    ctx = Context(config=config, entries=entries, backends=BackendSet(config.backends))
    outcome = check_probe_results(EXP.model_copy(update={"check": "assignment-lifecycle"}), ctx)
    assert not outcome.passed and outcome.skipped is None
    assert outcome.summary == (
        "nothing to judge: no assignment-lifecycle probe reached the service in this run"
    )


# --- on the real stack -------------------------------------------------------------------


@pytest.fixture(scope="module")
def probe_config(stack, stack_config) -> Config:
    """The stack's config with the shipped HTTP and workflow checks (no browser: faster)."""
    shipped = load_config(REPO / "signalcheck.yaml", environ={}).checks
    return stack_config.model_copy(update={"checks": [c for c in shipped if c.type != "browser"]})


@pytest.fixture(scope="module")
def passed_pass(probe_config) -> list[Entry]:
    """The probe entries of one real probe pass, pushed to the stack's Pushgateway."""
    ledger = new_ledger(probe_config)
    probe_pass(probe_config, ledger)
    return ledger.entries()


def judged(config: Config, entries: list[Entry], budget: float):
    backends = BackendSet(config.backends)
    try:
        ctx = Context(config=config, entries=entries, backends=backends)
        return check_probe_results(EXP.model_copy(update={"budget": budget}), ctx)
    finally:
        backends.close()


@pytest.mark.stack
@pytest.mark.slow
def test_a_real_probe_pass_reaches_prometheus_in_every_region(probe_config, passed_pass):
    outcome = judged(probe_config, passed_pass, budget=15)
    pairs = len(probe_config.checks) * len(probe_config.regions)
    assert outcome.passed, outcome.report("probes")
    assert outcome.summary.startswith(f"{pairs} (check, region) result(s) in Prometheus")
    assert outcome.time_to_appear is not None and 0 <= outcome.time_to_appear <= 15


@pytest.mark.stack
@pytest.mark.slow
def test_a_ledger_claiming_a_later_end_than_prometheus_holds_fails(probe_config, passed_pass):
    def claimed(e: Entry) -> Entry:
        if (e.field("check"), e.field("region")) != ("health", "eu-west-1"):
            return e
        return Entry(**{**e.model_dump(), "end": e.field("end") + 30})

    outcome = judged(probe_config, [claimed(e) for e in passed_pass], budget=3)
    assert not outcome.passed
    assert outcome.summary.startswith("eu-west-1 health: Prometheus holds last run"), (
        outcome.summary
    )
    assert "30.0s before" in outcome.summary and "a stale push" in outcome.summary
    assert outcome.summary.count(";") == 0  # the other pairs are this run's


@pytest.mark.stack
@pytest.mark.slow
def test_pushes_grouped_without_the_region_overwrite_each_other_and_fail(probe_config, monkeypatch):
    job = signalcheck.probes.push.PUSH_JOB
    group_path = signalcheck.probes.push.group_path
    with PushgatewayClient(probe_config.backends.pushgateway) as pushgateway:
        for region in probe_config.regions:  # a fresh gateway: only the broken grouping's group
            pushgateway.request("DELETE", group_path(job, region=region)).raise_for_status()
        monkeypatch.setattr(
            signalcheck.probes.push, "group_path", lambda job, **_key: group_path(job)
        )
        try:
            ledger = new_ledger(probe_config)
            probe_pass(probe_config, ledger)
            [(_, pushed)] = [
                (g["labels"], g) for g in pushgateway.groups() if g["labels"].get("job") == job
            ]
            outcome = judged(probe_config, ledger.entries(), budget=5)
        finally:
            pushgateway.request("DELETE", group_path(job)).raise_for_status()
    survivor = list(probe_config.regions)[-1]  # pushed last
    assert {s["labels"]["region"] for s in pushed[LAST_RUN]["metrics"]} == {survivor}
    assert not outcome.passed
    lost = [r for r in probe_config.regions if r != survivor]
    for region in lost:
        for check in probe_config.checks:
            assert f"{region} {check.name}: no {LAST_RUN} series" in outcome.summary, (
                outcome.summary
            )
    assert survivor not in outcome.summary
    assert "Pushgateway grouping" in outcome.summary
