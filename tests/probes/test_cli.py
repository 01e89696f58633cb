"""`signalcheck probe`: exit codes, JSON summary, ledger, push failure, the daemon's /metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from signalcheck.ledger import read_entries
from signalcheck.waiting import wait_for
from tests.probes.conftest import write_config
from tests.support import free_port

OK = {"name": "ok", "type": "http", "path": "/ok", "timeout": 2}
FAILING = {"name": "broken", "type": "http", "path": "/error", "timeout": 2}


def probe(config: Path, *args: str, pushgateway: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SIGNALCHECK_PUSHGATEWAY_URL": pushgateway or f"http://127.0.0.1:{free_port()}",
    }
    return subprocess.run(
        [sys.executable, "-m", "signalcheck", "probe", "--config", str(config), *args],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip


def config_for(tmp_path: Path, url: str, checks: list[dict]) -> Path:
    return write_config(tmp_path, {"us-east-1": url, "eu-west-1": url}, checks)


def test_all_passing_exits_0_with_a_json_summary_and_ledger(target, tmp_path) -> None:
    done = probe(config_for(tmp_path, target[0], [OK]), "--once", "--no-push")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["passed"], summary["failed"]) == (2, 0)
    assert summary["push"] == {"attempted": False, "ok": False, "error": None}
    assert {r["region"] for r in summary["results"]} == {"us-east-1", "eu-west-1"}
    entries = list(read_entries(summary["ledger"]))
    assert [e.kind for e in entries] == ["probe", "probe"]
    assert {e.field("trace_id") for e in entries} == {r["trace_id"] for r in summary["results"]}


def test_a_failing_check_exits_1(target, tmp_path) -> None:
    done = probe(config_for(tmp_path, target[0], [OK, FAILING]), "--once", "--no-push")
    assert done.returncode == 1, done.stderr
    failed = [r for r in json.loads(done.stdout)["results"] if r["outcome"] == "failure"]
    assert {(r["check"], r["error_class"]) for r in failed} == {("broken", "http_status")}


def test_one_region_only(target, tmp_path) -> None:
    done = probe(
        config_for(tmp_path, target[0], [OK]), "--once", "--no-push", "--region", "eu-west-1"
    )
    assert done.returncode == 0, done.stderr
    assert [r["region"] for r in json.loads(done.stdout)["results"]] == ["eu-west-1"]


def test_a_failed_push_exits_3_and_still_reports(target, tmp_path) -> None:
    done = probe(config_for(tmp_path, target[0], [OK]), "--once")
    assert done.returncode == 3, done.stderr
    summary = json.loads(done.stdout)
    assert summary["push"]["ok"] is False
    assert "pushgateway" in summary["push"]["error"]
    assert summary["passed"] == 2
    assert "push failed" in done.stderr
    assert len(list(read_entries(summary["ledger"]))) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--once", "--region", "mars-1"], "no region 'mars-1'"),
        (["--once", "--serve"], "exactly one of --once or --serve"),
        (["--serve", "--interval", "soon"], "--interval: 'soon'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(target, tmp_path, args, message) -> None:
    done = probe(config_for(tmp_path, target[0], [OK]), *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_bad_check_is_a_config_error_naming_the_key(target, tmp_path) -> None:
    bad = {**OK, "retries": {"attempts": 3, "backoff": "random"}}
    done = probe(config_for(tmp_path, target[0], [bad]), "--once")
    assert done.returncode == 2
    assert "checks.0.http.retries.backoff" in done.stderr, done.stderr


def test_no_checks_is_a_config_error(target, tmp_path) -> None:
    done = probe(config_for(tmp_path, target[0], []), "--once")
    assert done.returncode == 2
    assert "checks: no checks configured" in done.stderr


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    text = httpx.get(url, timeout=2).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_serve_keeps_counting_on_metrics(target, tmp_path) -> None:
    port = free_port()
    config = config_for(tmp_path, target[0], [OK, FAILING])
    proc = subprocess.Popen(
        [sys.executable, "-m", "signalcheck", "probe", "--config", str(config), "--serve",
         "--interval", "300ms", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/metrics"
    success = ("synthetic_request_success_total", (("endpoint", "ok"), ("region", "eu-west-1")))
    try:

        def successes() -> float | None:
            try:
                return scrape(url).get(success)
            except httpx.HTTPError:
                return None

        first, _ = wait_for(successes, timeout=20, what=f"a first pass on {url}")
        later, _ = wait_for(
            lambda: (v := successes()) and v >= first + 2 and v, timeout=20, what="two more passes"
        )
        samples = scrape(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert later >= first + 2
    failures = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "synthetic_request_failure_total"
    }
    broken = (("endpoint", "broken"), ("error_type", "http_status"), ("region", "eu-west-1"))
    assert failures[broken] >= 3, failures
    assert all(dict(labels)["endpoint"] == "broken" for labels in failures), failures
    key = (
        "synthetic_check_success",
        (("check", "broken"), ("check_type", "http"), ("region", "us-east-1")),
    )
    assert samples[key] == 0


def test_an_unset_variable_is_a_config_error_before_any_request(target, tmp_path) -> None:
    """`${PROBE_TOKEN}` set nowhere: exit 2 naming the check, the step and the variable, before
    a request is sent or a run is started (it used to run, fail as `other`, and page)."""
    url, seen = target
    workflow = {
        "name": "lifecycle", "type": "workflow", "timeout": 2,
        "steps": [
            {"name": "create", "path": "/ok", "capture": {"item": "$.status"}},
            {"name": "read", "path": "/ok?id=${item}", "headers": {"X-Token": "${PROBE_TOKEN}"}},
        ],
        "cleanup": [{"name": "delete", "path": "/ok?id=${item}&d=${PROBE_DEFAULTED:-1}"}],
    }  # fmt: skip
    before = len(seen)
    done = probe(config_for(tmp_path, url, [OK, workflow]), "--once", "--no-push")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        f"signalcheck: {tmp_path / 'signalcheck.yaml'}: checks: lifecycle, step read: "
        "${PROBE_TOKEN} not set (no earlier step captures it and the environment has no such "
        "variable): set it, or give a default as ${name:-default}"
    ]
    assert len(seen) == before
    assert not (tmp_path / "runs").exists()
