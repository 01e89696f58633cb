"""Interrupting an experiment in the middle of its method still restores the region."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.waiting import wait_for
from tests.chaos.conftest import (
    EXPERIMENTS,
    REGION,
    chaos_argv,
    chaos_env,
    journal,
    ledger,
    tail,
)

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def start_chaos(experiment: Path, config, run_dir: Path) -> subprocess.Popen:
    run_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        chaos_argv(experiment, run_dir),
        env=chaos_env(config, run_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_chaos(process: subprocess.Popen) -> str:
    """Wait for chaos to finish its rollbacks (kill it if it never does); its stderr."""
    try:
        _, stderr = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate(timeout=10)
        pytest.fail(f"chaos did not finish within 90 s of the signal\n{tail(stderr)}")
    return stderr


def firing(config, alert: str) -> list[dict]:
    with PrometheusClient(config.backends.prometheus) as prometheus:
        return [
            a
            for a in prometheus.alerts()
            if a["labels"]["alertname"] == alert
            and a["labels"].get("region") == REGION
            and a["state"] == "firing"
        ]


def admin_faults(stack, config, region: str = REGION) -> dict:
    """The faults the demo admin API of `region` says are in force."""
    token = stack.admin_token_path.read_text().strip()
    url = f"{str(config.regions[region].base_url).rstrip('/')}/admin/faults"
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).json()


def test_sigint_after_the_alert_fired_restarts_the_region(
    stack, stack_config, traffic, tmp_path
) -> None:
    process = start_chaos(EXPERIMENTS / "region-outage.json", stack_config, tmp_path)
    try:
        wait_for(
            lambda: firing(stack_config, "ServiceDown"),
            timeout=60,
            what=f"ServiceDown firing for {REGION} during the experiment's method",
        )
    finally:
        process.send_signal(signal.SIGINT)
    stderr = stop_chaos(process)

    assert process.returncode != 0
    assert journal(tmp_path)["status"] == "interrupted", tail(stderr)
    health = f"{str(stack_config.regions[REGION].base_url).rstrip('/')}/health"
    assert httpx.get(health, timeout=5).status_code == 200, "the region does not serve again"
    kills = [e for e in ledger(tmp_path) if e.kind == "fault"]
    assert kills[-1].field("action") == "kill" and kills[-1].field("end") is not None, kills
    wait_for(
        lambda: not firing(stack_config, "ServiceDown"),
        timeout=30,
        what=f"ServiceDown for {REGION} to resolve after the interrupted run restored it",
    )


def test_sigterm_restores_even_without_declared_rollbacks(
    stack, stack_config, traffic, tmp_path
) -> None:
    """The control alone restores what the ledger says is broken."""
    experiment = json.loads((EXPERIMENTS / "dependency-outage.json").read_text())
    experiment["rollbacks"] = []
    del experiment["runtime"]
    path = tmp_path / "dependency-outage-without-rollbacks.json"
    path.write_text(json.dumps(experiment))
    process = start_chaos(path, stack_config, tmp_path)
    try:
        wait_for(
            lambda: admin_faults(stack, stack_config)["dependency_down"],
            timeout=30,
            what=f"the database of {REGION} cut by the experiment's method",
        )
    finally:
        process.send_signal(signal.SIGTERM)
    stderr = stop_chaos(process)

    run = journal(tmp_path)
    assert run["status"] == "interrupted", tail(stderr)
    assert run["rollbacks"] == []
    assert admin_faults(stack, stack_config)["dependency_down"] is False
    entries = ledger(tmp_path)
    (restore,) = [e for e in entries if e.kind == "chaos" and e.field("phase") == "restore"]
    assert restore.field("regions") == [REGION]
    faults = [e for e in entries if e.kind == "fault"]
    assert faults[-1].field("end") is not None, faults
    with PrometheusClient(stack_config.backends.prometheus) as prometheus:
        wait_for(
            lambda: prometheus.query(f'demo_dependency_up{{region="{REGION}"}} == 1'),
            timeout=10,
            what=f"demo_dependency_up of {REGION} back to 1",
        )
    assert not firing(stack_config, "DependencyDown")
