"""`signalcheck up | status | down` as a user runs them: real processes, exit codes, messages."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import yaml

from tests.support import REPO, write_stack_config

pytestmark = pytest.mark.stack


def signalcheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "signalcheck", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def stack_pids(config_path: Path) -> list[int]:
    state = config_path.parent / "stack" / "state.json"
    return [item["pid"] for item in json.loads(state.read_text())] if state.exists() else []


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.slow
def test_up_twice_starts_one_stack_and_down_leaves_no_process(tmp_path):
    config = write_stack_config(tmp_path)
    first = signalcheck("up", "--config", str(config))
    assert first.returncode == 0, first.stdout + first.stderr
    pids = stack_pids(config)
    try:
        assert len(pids) == 8  # capture, pushgateway, alertmanager, rum-ingest, 3 demos, prometheus
        assert all(alive(pid) for pid in pids)

        second = signalcheck("up", "--config", str(config))
        assert second.returncode == 0
        assert "already running" in second.stdout
        assert stack_pids(config) == pids

        status = signalcheck("status", "--config", str(config))
        assert status.returncode == 0
        assert status.stdout.count("healthy") == 8
    finally:
        down = signalcheck("down", "--config", str(config))
    assert down.returncode == 0
    assert "stopped 8 component(s)" in down.stdout
    assert not [pid for pid in pids if alive(pid)]
    assert signalcheck("status", "--config", str(config)).returncode == 1


def test_malformed_config_is_one_line_and_exit_2(tmp_path):
    config = tmp_path / "signalcheck.yaml"
    config.write_text("regions:\n  eu-west-1: {base_url: [}\n")
    assert_one_line_error(signalcheck("up", "--config", str(config)), str(config), "YAML")


def test_missing_binary_from_environment_is_one_line_and_exit_2(tmp_path):
    config = write_stack_config(tmp_path)
    result = signalcheck("up", "--config", str(config), env={"PROMETHEUS_BIN": "/nonexistent"})
    assert_one_line_error(result, "prometheus", "PROMETHEUS_BIN=/nonexistent")
    assert stack_pids(config) == []


def test_binary_missing_from_path_names_the_package(tmp_path):
    config = write_stack_config(tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    result = signalcheck("up", "--config", str(config), env={"PATH": str(empty)})
    assert_one_line_error(result, "pushgateway", "apt-get install -y prometheus-pushgateway")
    assert stack_pids(config) == []


def test_port_already_taken_is_one_line_and_exit_2(tmp_path):
    config = write_stack_config(tmp_path)
    port = yaml.safe_load(config.read_text())["stack"]["ports"]["prometheus"]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = signalcheck("up", "--config", str(config))
    assert_one_line_error(result, "prometheus", f"port {port}", str(config))
    assert stack_pids(config) == []


def test_reload_without_a_running_stack_is_one_line_and_exit_2(tmp_path):
    config = write_stack_config(tmp_path)
    result = signalcheck("reload", "--config", str(config))
    assert_one_line_error(result, "no stack running in", "signalcheck up")
    assert stack_pids(config) == []
