"""The local stack around the user's own service: regions without `demo: true` get no demo
(nothing started or bound on their ports), are scraped under the configured job through their
metrics_url, and `signalcheck reload` loads edited rules in place. Real processes: a stand-in
service (tests/stack/service.py) the test starts and stops by PID, and the stack's own."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config, load_config
from signalcheck.stack.render import PROMETHEUS_YML
from signalcheck.waiting import wait_for
from tests.stack.test_cli import alive, assert_one_line_error, signalcheck
from tests.support import REPO, free_port, write_stack_config

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DEMO = "us-east-1"
YOURS = ("eu-west-1", "ap-south-1")
JOB = "shop"
LABELS = {"team": "payments"}
METRICS_PATH = "/internal/prom"
BACKENDS = {"capture", "pushgateway", "alertmanager", "rum-ingest", "prometheus"}
RULE_FILE = "heartbeat.yml"


@dataclass(frozen=True)
class Service:
    port: int
    metrics_port: int
    process: subprocess.Popen[bytes]

    @property
    def ports(self) -> set[int]:
        return {self.port, self.metrics_port}


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, Service]]:
    """The user's service in each of YOURS: /health on one port, metrics on another."""
    started: dict[str, Service] = {}
    try:
        for region in YOURS:
            port, metrics_port = free_port(), free_port()
            argv = [sys.executable, "-m", "tests.stack.service", region, str(port),
                    str(metrics_port), METRICS_PATH]  # fmt: skip
            process = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL)
            started[region] = Service(port, metrics_port, process)
        for region, service in started.items():
            wait_for(
                lambda service=service: _answers(f"http://127.0.0.1:{service.port}/health"),
                timeout=15,
                what=f"the test's service of {region} to answer /health",
            )
        yield started
    finally:
        for service in started.values():
            service.process.terminate()
            try:
                service.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def write_config(directory: Path, services: dict[str, Service], demo: bool = True) -> Path:
    """A stack config with the demo at DEMO (unless not `demo`), the test's service at YOURS,
    scraped as JOB with LABELS, and a copy of a shipped rule file as its only rules."""
    path = write_stack_config(directory)
    raw = yaml.safe_load(path.read_text())
    if not demo:
        del raw["regions"][DEMO]
    for region, service in services.items():
        raw["regions"][region] = {
            "base_url": f"http://127.0.0.1:{service.port}",
            "metrics_url": f"http://127.0.0.1:{service.metrics_port}{METRICS_PATH}",
        }
    rules = directory / "rules" / RULE_FILE
    rules.parent.mkdir()
    shutil.copy(PROMETHEUS_YML.parent / "rules" / RULE_FILE, rules)
    raw["stack"].update({"scrape": {"job": JOB, "labels": LABELS}, "rule_files": [str(rules)]})
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def up(config: Path) -> subprocess.CompletedProcess:
    result = signalcheck("up", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def config_path(services, tmp_path_factory) -> Iterator[Path]:
    """The config of a running stack around one demo region and the test's two services."""
    path = write_config(tmp_path_factory.mktemp("your-service"), services)
    try:
        up(path)
        yield path
    finally:
        signalcheck("down", "--config", str(path))


@pytest.fixture(scope="module")
def config(config_path) -> Config:
    return load_config(config_path, environ={})


def recorded(config_path: Path) -> dict[str, int]:
    """Component name -> PID, as the stack recorded what it started."""
    state = json.loads((config_path.parent / "stack" / "state.json").read_text())
    return {item["name"]: item["pid"] for item in state}


def listeners(ports: set[int]) -> dict[int, set[int | None]]:
    """Port -> PIDs of the processes listening on it (of `ports` only)."""
    found: dict[int, set[int | None]] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port in ports:
            found.setdefault(conn.laddr.port, set()).add(conn.pid)
    return found


def test_up_starts_no_demo_and_binds_nothing_for_your_regions(config_path, config, services):
    names = set(recorded(config_path))
    assert names == BACKENDS | {f"demo-{DEMO}"}
    for service in services.values():
        assert listeners(service.ports) == {port: {service.process.pid} for port in service.ports}
    status = signalcheck("status", "--config", str(config_path))
    assert status.returncode == 0, status.stdout
    assert f"demo-{DEMO}" in status.stdout
    assert not [region for region in YOURS if f"demo-{region}" in status.stdout], status.stdout
    yours = ", ".join(region for region in config.regions if region in YOURS)
    assert f"your service (not started here): {yours}" in status.stdout


def test_your_regions_are_scraped_under_the_configured_job_through_metrics_url(
    config_path, config, services
):
    with PrometheusClient(config.backends.prometheus) as prometheus:
        targets = {
            t["labels"]["region"]: t for t in prometheus.targets() if t["labels"]["job"] == JOB
        }
        info, _ = wait_for(
            lambda: prometheus.query(f'shop_info{{job="{JOB}"}}'),
            timeout=15,
            what="the test's service's shop_info scraped",
        )
        demo = prometheus.query(f'up{{job="{JOB}", region="{DEMO}"}}')
    assert set(targets) == {DEMO, *YOURS}
    for region, service in services.items():
        target = targets[region]
        assert target["scrapeUrl"] == f"http://127.0.0.1:{service.metrics_port}{METRICS_PATH}"
        assert target["health"] == "up", target
        assert target["labels"] == {
            "job": JOB,
            "instance": f"127.0.0.1:{service.metrics_port}",
            "region": region,
            **LABELS,
        }
    by_region = {sample["metric"]["region"]: sample["metric"] for sample in info}
    assert set(by_region) == set(YOURS)
    for region in YOURS:
        assert by_region[region]["team"] == "payments"
        assert by_region[region]["zone"] == f"{region}-a"
        assert "service" not in by_region[region], by_region[region]
    (demo_up,) = demo
    assert demo_up["metric"]["service"] == "demo-api" and demo_up["value"][1] == "1"


def test_reload_loads_an_edited_rule_in_place_and_keeps_the_data(config_path, config):
    pids = recorded(config_path)
    rules = config.stack.rule_files[0]
    original = rules.read_text()
    with PrometheusClient(config.backends.prometheus) as prometheus:
        (before,) = wait_for(
            lambda: prometheus.query(f'shop_health_checks_total{{region="{YOURS[0]}"}}'),
            timeout=15,
            what=f"{YOURS[0]}'s shop_health_checks_total",
        )[0]
        sampled_at = float(before["value"][0])
        edited = yaml.safe_load(original)
        edited["groups"].append(
            {"name": "shop", "rules": [{"record": "shop:reloaded", "expr": "vector(1)"}]}
        )
        rules.write_text(yaml.safe_dump(edited, sort_keys=False))
        try:
            reloaded = signalcheck("reload", "--config", str(config_path))
            assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
            assert "reloaded prometheus: prometheus.yml, 1 rule file(s)" in reloaded.stdout
            assert "reloaded alertmanager: alertmanager.yml" in reloaded.stdout
            loaded = {rule["name"] for group in prometheus.rules() for rule in group["rules"]}
            assert {"shop:reloaded", "Watchdog"} <= loaded, loaded

            again = up(config_path)
            assert "already running" in again.stdout and "reloaded prometheus" in again.stdout
        finally:
            rules.write_text(original)
        still = prometheus.query(
            f'shop_health_checks_total{{region="{YOURS[0]}"}}', time=sampled_at
        )
    assert recorded(config_path) == pids and all(alive(pid) for pid in pids.values())
    assert [sample["metric"] for sample in still] == [before["metric"]]


def test_a_reload_that_does_not_take_names_prometheus_its_file_and_log(config_path, config):
    pids = recorded(config_path)
    rules = config.stack.rule_files[0]
    original = rules.read_text()
    rules.write_text(original.replace("expr: vector(1)", "expr: vector(1"))
    try:
        failed = signalcheck("reload", "--config", str(config_path))
    finally:
        rules.write_text(original)
    data = config_path.parent / "stack"
    assert_one_line_error(
        failed,
        f"prometheus did not load {data / 'prometheus.yml'}",
        RULE_FILE,
        str(data / "logs" / "prometheus.log"),
    )
    assert recorded(config_path) == pids
    restored = signalcheck("reload", "--config", str(config_path))
    assert restored.returncode == 0, restored.stderr


def test_a_stack_of_only_your_regions_starts_the_backends_alone(services, tmp_path):
    """... and `up` on it follows the config: a region that turns `demo: true` gets its demo,
    one that stops being a demo region has its demo stopped; the backends keep running."""
    path = write_config(tmp_path, services, demo=False)
    config = load_config(path, environ={})
    only_yours = path.read_text()
    try:
        up(path)
        assert set(recorded(path)) == BACKENDS
        assert _scraped_regions(config) == set(YOURS)
        backends = recorded(path)

        raw = yaml.safe_load(only_yours)
        raw["regions"][DEMO] = {"base_url": f"http://127.0.0.1:{free_port()}", "demo": True}
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        with_demo = up(path)
        assert f"started demo-{DEMO}" in with_demo.stdout, with_demo.stdout
        assert set(recorded(path)) == BACKENDS | {f"demo-{DEMO}"}
        assert _scraped_regions(config) == {DEMO, *YOURS}
        demo_pid = recorded(path)[f"demo-{DEMO}"]

        path.write_text(only_yours)
        without = up(path)
        assert f"stopped demo-{DEMO}: not a component of" in without.stdout, without.stdout
        assert recorded(path) == backends and not alive(demo_pid)
        assert _scraped_regions(config) == set(YOURS)
    finally:
        down = signalcheck("down", "--config", str(path))
    assert down.returncode == 0 and "stopped 5 component(s)" in down.stdout
    assert not listeners({config.stack.ports.prometheus})


def _scraped_regions(config: Config) -> set[str]:
    """The regions of the job's targets Prometheus scrapes now, once all are up."""
    with PrometheusClient(config.backends.prometheus) as prometheus:

        def settled() -> set[str] | None:
            targets = [t for t in prometheus.targets() if t["labels"]["job"] == JOB]
            up = all(t["health"] == "up" for t in targets)
            return {t["labels"]["region"] for t in targets} if targets and up else None

        regions, _ = wait_for(settled, timeout=15, what=f"every target of job {JOB} up")
    return regions


def test_a_target_of_your_service_that_is_down_is_named(services, tmp_path):
    path = write_config(tmp_path, services, demo=False)
    raw = yaml.safe_load(path.read_text())
    dead = free_port()
    raw["regions"][YOURS[1]]["metrics_url"] = f"http://127.0.0.1:{dead}{METRICS_PATH}"
    raw["stack"]["ready_timeout"] = 15
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    began = time.monotonic()
    failed = signalcheck("up", "--config", str(path))
    try:
        assert_one_line_error(
            failed,
            f"job {JOB} region {YOURS[1]} at http://127.0.0.1:{dead}{METRICS_PATH}",
            "are your service's (no `demo: true`)",
        )
        assert time.monotonic() - began < 60
        assert not (tmp_path / "stack" / "state.json").exists()
    finally:
        signalcheck("down", "--config", str(path))
