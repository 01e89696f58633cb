"""`signalcheck init --from-prometheus` on a system that is not the shipped one: the local
stack (demo regions as the service, scraped as job `api`, the user's rules and a nested route
tree with `continue` in Alertmanager) watched by the user's own Prometheus, which scrapes two
jobs per region labelled `cluster` (not `region`), the Pushgateway and Alertmanager, and
evaluates the same rules. From that Prometheus and Alertmanager alone, init writes a config
that loads, passes `probe --once` + `validate` on the healthy system, routes every alert as
Alertmanager does (amtool), lists as uncovered exactly the rules no exercise fires, and
`--update` keeps what the user edited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from signalcheck.config import load_config
from signalcheck.processes import stop
from signalcheck.stack import LocalStack
from signalcheck.stack.launcher import Component, prometheus_command, start_component, wait_ready
from signalcheck.stack.ports import free_port
from tests.init.test_routing import amtool_receivers
from tests.support import REPO, write_stack_config

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DATA = Path(__file__).parent / "data"
CLUSTERS = {"us-east-1": "blue", "eu-west-1": "green", "ap-south-1": "red"}
"""The stack's demo region -> the cluster the user's Prometheus labels it."""
NO_EXERCISE = {"ApiNotReady", "EdgeDependencyDown", "FleetErrors"}
"""The rules of data/rules.yml that no exercise can fire (no fault kind, or no region)."""


def signalcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNALCHECK_")}
    done = subprocess.run(
        [sys.executable, "-m", "signalcheck", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    print(f"$ signalcheck {' '.join(args)}  # exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def users_prometheus_yml(stack_config, port: int) -> dict:
    """The user's prometheus.yml: jobs api and edge per cluster, Pushgateway, Alertmanager."""
    regions = stack_config.regions
    per_cluster = [
        {"targets": [f"127.0.0.1:{regions[name].port}"], "labels": {"cluster": cluster}}
        for name, cluster in CLUSTERS.items()
    ]
    ports = stack_config.stack.ports
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(DATA / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [
            f"127.0.0.1:{ports.alertmanager}"]}]}]},
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]},
            {"job_name": "api", "static_configs": per_cluster},
            {"job_name": "edge", "static_configs": per_cluster},
            {"job_name": "pushgateway", "honor_labels": True,
             "static_configs": [{"targets": [f"127.0.0.1:{ports.pushgateway}"]}]},
            {"job_name": "alertmanager",
             "static_configs": [{"targets": [f"127.0.0.1:{ports.alertmanager}"]}]},
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def system(tmp_path_factory) -> Iterator[tuple[object, str]]:
    """(the local stack's config, the user's Prometheus URL), both running."""
    root = tmp_path_factory.mktemp("from-prometheus")
    path = write_stack_config(root)
    raw = yaml.safe_load(path.read_text())
    raw["stack"].update(
        scrape={"job": "api"},
        rule_files=[str(DATA / "rules.yml")],
        alertmanager_config=str(DATA / "nested-routes.yml"),
    )
    path.write_text(yaml.safe_dump(raw))
    config = load_config(path, environ={})
    local = LocalStack(config)
    local.up()
    port = free_port()
    prometheus_yml = root / "users-prometheus.yml"
    prometheus_yml.write_text(yaml.safe_dump(users_prometheus_yml(config, port)))
    argv = prometheus_command(prometheus_yml, root / "tsdb", port)
    component = Component("users-prometheus", argv, port, "/-/ready")
    started = start_component(component, root / "users-prometheus.log")
    try:
        wait_ready(started, time.monotonic() + 30, 30)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:  # every target scraped once, every rule group evaluated
            targets = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"]
            groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
            healthy = [t for t in targets["activeTargets"] if t["health"] == "up"]
            if len(healthy) == 9 and all(g["lastEvaluation"] > "2000" for g in groups):
                break
            assert time.monotonic() < deadline, f"user's Prometheus not ready: {targets}"
            time.sleep(0.5)
        yield config, url
    finally:
        stop(started)
        local.down()


def test_init_from_the_users_prometheus(system, tmp_path: Path) -> None:
    stack_config, prometheus = system
    alertmanager = stack_config.backends.alertmanager.base_url
    folder = tmp_path / "mine"
    done = signalcheck(
        "init", str(folder), "--from-prometheus", prometheus, "--alertmanager", alertmanager,
        "--region-label", "cluster", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    path = folder / "signalcheck.yaml"

    # the written config validates, with the user's regions and jobs
    config = load_config(path, environ={})
    assert set(config.regions) == set(CLUSTERS.values())
    targets = {e.job: e for e in config.expectations.targets}
    assert set(targets) == {"api", "edge", "prometheus", "pushgateway", "alertmanager"}
    assert targets["api"].every_region and targets["api"].region_label == "cluster"
    assert "cluster" in targets["api"].identity_labels
    assert not targets["pushgateway"].every_region
    alerts = {e.alert: e for e in config.expectations.alerts}
    assert {a: e.fault for a, e in alerts.items()} == {
        "ApiDown": "kill", "ApiErrors": "errors", "ApiSlow": "latency", "EdgeDown": "kill",
    }  # fmt: skip
    text = path.read_text()
    for rule in NO_EXERCISE:
        assert any(rule in line and "needs an exercise" in line for line in text.splitlines())

    # every receiver computed equals Alertmanager's own routing of the alert's labels
    coverage = json.loads((folder / "signalcheck.coverage.json").read_text())
    status = httpx.get(f"{alertmanager}/api/v2/status", timeout=5).json()
    routes = tmp_path / "live-alertmanager.yml"
    routes.write_text(status["config"]["original"])
    rules = yaml.safe_load((DATA / "rules.yml").read_text())
    static = {
        r["alert"]: {**r.get("labels", {}), "alertname": r["alert"]}
        for group in rules["groups"] for r in group["rules"] if "alert" in r
    }  # fmt: skip
    assert {r["alert"] for r in coverage["rules"]} == set(static)
    for rule in coverage["rules"]:
        assert rule["receivers"] == amtool_receivers(routes, static[rule["alert"]]), rule
    assert alerts["EdgeDown"].receiver == "default"  # one receiver: the one judged
    assert alerts["ApiDown"].receiver is None  # continue: audit, payments-pager and payments

    # the coverage lists exactly the rules no exercise fires
    assert set(coverage["uncovered"]) == NO_EXERCISE
    assert coverage["covered"] == len(static) - len(NO_EXERCISE)
    print("test system:", coverage["summary"])

    # probe --once + validate pass on the healthy system (pushgateway and capture: the stack's)
    raw = yaml.safe_load(text)
    ports = stack_config.stack.ports
    raw["backends"].update(
        pushgateway={"url": f"http://127.0.0.1:{ports.pushgateway}"},
        capture={"url": f"http://127.0.0.1:{ports.capture}"},
    )
    raw["runs_dir"] = str(tmp_path / "runs")
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert signalcheck("probe", "--once", "--config", str(edited), cwd=REPO).returncode == 0
    done = signalcheck("validate", "--config", str(edited), cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:]


def test_update_adds_only_what_is_new_and_keeps_edits(system, tmp_path: Path) -> None:
    stack_config, prometheus = system
    alertmanager = stack_config.backends.alertmanager.base_url
    args = ["--from-prometheus", prometheus, "--alertmanager", alertmanager,
            "--region-label", "cluster"]  # fmt: skip
    assert signalcheck("init", str(tmp_path), *args, cwd=tmp_path).returncode == 0
    path = tmp_path / "signalcheck.yaml"
    lines = path.read_text().splitlines()
    # the user: edits a budget, adds a comment, deletes the edge job's targets expectation
    edited = [
        line.replace("budget: 15.0", "budget: 42.0") if "api-targets-up" in line else line
        for line in lines
        if "edge-targets-up" not in line
    ]
    edited.insert(1, "# my own note")
    path.write_text("\n".join(edited) + "\n")

    again = signalcheck("init", str(tmp_path), *args, "--update", cwd=tmp_path)
    assert again.returncode == 0 and "1 new entries added" in again.stdout
    after = path.read_text()
    assert "# my own note" in after and after.count("edge-targets-up") == 1
    config = load_config(path, environ={})
    budgets = {e.name: e.budget for e in config.expectations.targets}
    assert budgets["api-targets-up"] == 42.0 and "edge-targets-up" in budgets

    refused = signalcheck("init", str(tmp_path), *args, cwd=tmp_path)
    assert refused.returncode == 2 and "--update" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
