"""The `rum` expectation: a browser probe's RUM session in the RUM store, whole, with its API
call tied to the service's trace, and the ingest's counters moved.

The pure logic is tested on event rows shaped as the ingest's session API returns them; the
rest on the real local stack with real headless Chromium: a real probe pass passes, and the
same pass judged with its session id altered, or a pass whose page loads an SDK that reports
no web vitals (tests/mutants/broken_rum_ingest.py), fails naming what is missing.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from signalcheck.backends.rum_ingest import RUM_READ_KEY_ENV, rum_read_key
from signalcheck.config import Backend, Config, load_config
from signalcheck.errors import BackendError
from signalcheck.evidence import Context
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.outcome import Outcome, late
from signalcheck.evidence.rum import arrival, call_problem, check_rum, missing_in_session
from signalcheck.expectations import RumExpectation
from signalcheck.gameday.vitals import rum_vitals
from signalcheck.ledger import Entry
from signalcheck.stack import LocalStack
from signalcheck.stack.launcher import RUM_APP_NAME
from signalcheck.waiting import wait_for
from tests.support import REPO, free_port, stop
from tests.validation.support import new_ledger, probe_pass

SHIPPED = load_config(REPO / "signalcheck.yaml", environ={})
EXPECTATION = SHIPPED.expectations.rum[0]
REGION = "us-east-1"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def stored(
    kind: str, at: float, name: str | None = None, trace_id: str | None = None, took: float = 0.1
) -> dict:
    """One event as GET /v1/sessions/{id}/events returns it: received at `at`, recorded by the
    browser `took` seconds before."""
    return {
        "received_at": at, "client_time": round((at - took) * 1000), "event_type": kind,
        "page": "/",
        "name": name, "value": 12.5 if kind == "web_vital" else None,
        "duration_seconds": 0.01, "status": 200 if kind == "api_call" else None,
        "trace_id": trace_id, "region": REGION,
    }  # fmt: skip


COMPLETE = [
    stored("page_load", 100.2, took=0.3),
    stored("web_vital", 100.1, "FCP"),
    stored("web_vital", 100.3, "TTFB", took=0.5),
    stored("api_call", 100.4, "GET /health/ready", TRACE),
    stored("web_vital", 101.0, "FCP", took=2.0),  # a later repeat does not move the arrival
]


# ------------------------------------------------------------------------------ pure logic


def test_a_complete_session_misses_nothing_and_arrived_with_its_slowest_expected_piece():
    assert missing_in_session(EXPECTATION, COMPLETE) == []
    assert arrival(EXPECTATION, COMPLETE) == pytest.approx(0.5)
    slow_call = [*COMPLETE, stored("api_call", 109.0, "GET /api/x", TRACE, took=7.0)]
    assert arrival(EXPECTATION, slow_call) == pytest.approx(7.0)


def test_events_the_browser_held_past_the_budget_are_late():
    """Events the SDK kept 20 s before sending took 20 s, however fast the page loaded."""
    held = [{**e, "client_time": e["client_time"] - 20_000} for e in COMPLETE]
    assert arrival(EXPECTATION, held) == pytest.approx(20.5)
    assert late("its events", arrival(EXPECTATION, held), EXPECTATION.budget) == (
        "its events arrived 20.5s after the event, past the 15s budget"
    )


def test_a_session_without_vitals_or_traced_calls_names_each_gap():
    no_vitals = [e for e in COMPLETE if e["event_type"] != "web_vital"]
    assert missing_in_session(EXPECTATION, no_vitals) == [
        "web_vital event", "web vital TTFB", "web vital FCP",
    ]  # fmt: skip
    untraced = [{**e, "trace_id": None} for e in COMPLETE]
    assert missing_in_session(EXPECTATION, untraced) == ["an api_call with a trace id"]
    only_fcp = [e for e in COMPLETE if e["name"] != "TTFB"]
    assert missing_in_session(EXPECTATION, only_fcp) == ["web vital TTFB"]


def test_a_traced_call_must_be_a_server_span_of_the_service():
    call = COMPLETE[3]
    server = {"kind": "SERVER", "name": "GET /health/ready"}
    client = {"kind": "CLIENT", "name": "GET"}
    assert "not in the trace backend" in call_problem(call, [])
    assert "no SERVER span, only ['GET']" in call_problem(call, [client])
    assert call_problem(call, [client, server]) == ""


def probe(check_type: str = "browser", **fields) -> Entry:
    values = {
        "check": "home-page", "check_type": check_type, "region": REGION,
        "endpoint": "home-page", "trace_id": TRACE, "start": 100.0, "end": 101.0,
        "outcome": "success", "error_class": None, "rum_session_id": "a" * 32, **fields,
    }  # fmt: skip
    return Entry(ts=101.0, kind="probe", **values)


def judge(config: Config, entries: list[Entry], exp: RumExpectation = EXPECTATION) -> Outcome:
    backends = BackendSet(config.backends)
    try:
        return check_rum(exp, Context(config=config, entries=entries, backends=backends))
    finally:
        backends.close()


def test_no_browser_probe_that_reached_the_service_is_nothing_to_judge():
    entries = [
        probe("http", check="home-page"),
        probe(error_class="connect_error", outcome="failure"),
        probe(check="other-page"),
    ]
    outcome = judge(SHIPPED, entries)
    assert not outcome.passed and outcome.skipped is None
    assert outcome.summary == (
        "nothing to judge: no home-page browser probe reached the service in this run"
    )


def test_the_read_key_comes_from_the_environment_then_the_stack_key_file(tmp_path):
    config = SHIPPED.model_copy(
        update={"stack": SHIPPED.stack.model_copy(update={"data_dir": tmp_path})}
    )
    with pytest.raises(BackendError, match=f"set \\${RUM_READ_KEY_ENV} or start the local stack"):
        rum_read_key(config, environ={})
    (tmp_path / "rum-api-key").write_text("the-ingest-key-0123456789\n")
    with pytest.raises(BackendError, match="no read key"):
        rum_read_key(config, environ={config.load.rum_api_key_env: "the-ingest-key-0123456789"})
    (tmp_path / "rum-read-key").write_text("from-the-file-0123456789\n")
    assert rum_read_key(config, environ={}) == "from-the-file-0123456789"
    environ = {RUM_READ_KEY_ENV: " from-env-0123456789 "}
    assert rum_read_key(config, environ=environ) == "from-env-0123456789"


# ------------------------------------------------------------------------- the real stack


def browser_config(stack_config: Config) -> Config:
    """The stack's config with the shipped home-page browser check, in one region."""
    home_page = next(c for c in SHIPPED.checks if c.name == "home-page")
    regions = {REGION: stack_config.regions[REGION]}
    return stack_config.model_copy(update={"checks": [home_page], "regions": regions})


@pytest.fixture(scope="module")
def browser_run(stack, stack_config) -> tuple[Config, list[Entry], float]:
    """One real probe pass of the browser check: (config, ledger entries, pass start)."""
    config = browser_config(stack_config)
    ledger = new_ledger(config)
    began = time.time()
    probe_pass(config, ledger)
    return config, ledger.entries(), began


@pytest.mark.stack
@pytest.mark.slow
def test_a_real_browser_probe_pass_leaves_its_session_in_the_rum_store(browser_run):
    config, entries, _ = browser_run
    [entry] = [e for e in entries if e.kind == "probe"]
    assert len(entry.field("rum_session_id")) == 32, entry
    outcome = judge(config, entries)
    assert outcome.passed, outcome.report(EXPECTATION.name)
    assert "1 RUM session(s) complete" in outcome.summary
    assert "/v1/sessions/" in outcome.query and "X-API-Key" not in outcome.query
    assert 0 < outcome.time_to_appear <= EXPECTATION.budget, outcome
    assert "api_call GET /health/ready trace=" in outcome.observed


@pytest.mark.stack
@pytest.mark.slow
def test_a_session_id_the_store_never_saw_fails_naming_it(browser_run):
    config, entries, _ = browser_run
    wrong = secrets.token_hex(16)
    altered = [
        Entry(**{**e.model_dump(), "rum_session_id": wrong}) if e.kind == "probe" else e
        for e in entries
    ]
    outcome = judge(config, altered, EXPECTATION.model_copy(update={"budget": 3.0}))
    assert not outcome.passed
    assert f"home-page ({REGION}) session {wrong}: no event of it in the RUM store" in (
        outcome.summary
    )


@pytest.mark.stack
@pytest.mark.slow
def test_the_game_day_rum_table_holds_the_runs_vitals(browser_run):
    config, _, began = browser_run
    vitals = {v.name: v for v in rum_vitals(config, began, time.time() + 1)}
    assert {"TTFB", "FCP"} <= set(vitals), vitals
    for name in ("TTFB", "FCP"):
        assert vitals[name].unit == "s" and vitals[name].count >= 1, vitals[name]
        assert 0 < vitals[name].p75 < 10 and 0 <= vitals[name].good_share <= 1, vitals[name]
    assert rum_vitals(config, began - 7200, began - 3600) == []


def _started(argv: list[str], env: dict[str, str], log: Path, health: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        argv, cwd=REPO, env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        wait_for(
            lambda: _answers(health),
            timeout=20,
            what=f"{' '.join(argv[1:3])} at {health} (log {log})",
        )
    except BaseException:
        stop(proc)
        raise
    return proc


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def mutant_sdk_region(
    stack: LocalStack, stack_config: Config, tmp: Path
) -> Iterator[tuple[Config, str]]:
    """A RUM ingest of its own serving an SDK that reports no web vitals, and a demo region
    whose page loads it; yields the browser config reading that ingest, and the demo's URL."""
    key = stack.rum_api_key_path.read_text().strip()
    ingest_url = f"http://127.0.0.1:{free_port()}"
    demo_port = free_port()
    demo_url = f"http://127.0.0.1:{demo_port}"
    ingest = _started(
        [
            sys.executable,
            "-m",
            "tests.mutants.broken_rum_ingest",
            "rum",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            ingest_url.rsplit(":", 1)[1],
        ],
        {
            "MUTANT": "sdk_no_vitals",
            "MUTANT_DIR": str(tmp),
            "DATABASE_URL": f"sqlite:///{tmp / 'rum.db'}",
            "RUM_API_KEYS": f"{RUM_APP_NAME}={key}",
            "RUM_READ_KEYS": f"{RUM_APP_NAME}={stack.rum_read_key_path.read_text().strip()}",
            "RUM_ALLOWED_ORIGINS": demo_url,
        },
        tmp / "mutant-ingest.log",
        f"{ingest_url}/health/ready",
    )
    try:
        demo = _started(
            [sys.executable, "-m", "signalcheck.demo"],
            {
                "REGION": REGION,
                "PORT": str(demo_port),
                "DEMO_DB_PATH": str(tmp / "demo.db"),
                "OTEL_EXPORTER_OTLP_ENDPOINT": stack_config.backends.capture.base_url,
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                "DEMO_RUM_SDK_URL": f"{ingest_url}/v1/sdk.js",
                "DEMO_RUM_API_KEY": key,
            },
            tmp / "mutant-demo.log",
            f"{demo_url}/health",
        )
        try:
            config = browser_config(stack_config)
            backends = config.backends.model_copy(update={"rum_ingest": Backend(url=ingest_url)})
            yield config.model_copy(update={"backends": backends}), demo_url
        finally:
            stop(demo)
    finally:
        stop(ingest)


@pytest.mark.stack
@pytest.mark.slow
def test_an_sdk_that_reports_no_web_vitals_fails_naming_them(stack, stack_config, tmp_path):
    with mutant_sdk_region(stack, stack_config, tmp_path) as (config, demo_url):
        ledger = new_ledger(config)
        probe_pass(config, ledger, base_urls={REGION: demo_url})
        # the mutant ingest is not scraped: its counters are not this test's subject
        exp = EXPECTATION.model_copy(update={"budget": 4.0, "metrics": []})
        outcome = judge(config, ledger.entries(), exp)
    assert not outcome.passed
    assert "missing web_vital event, web vital TTFB, web vital FCP" in (outcome.summary), (
        outcome.summary
    )
    # the session itself arrived, its traced call too: only the gaps fail
    assert "page_load" in outcome.observed and "api_call GET /health/ready" in outcome.observed
