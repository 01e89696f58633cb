"""`signalcheck up` on a stack with a dead component heals it, and keeps stored data unless
`--fresh`: real processes started and killed by PID."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from tests.rum.conftest import event
from tests.stack.test_cli import alive, signalcheck
from tests.support import write_stack_config

pytestmark = [pytest.mark.stack, pytest.mark.slow]

KILLED = "demo-eu-west-1"


@pytest.fixture
def config(tmp_path) -> Iterator[Path]:
    """A stack config whose stack `signalcheck down` stops after the test, whatever happened."""
    path = write_stack_config(tmp_path)
    try:
        yield path
    finally:
        signalcheck("down", "--config", str(path))


def pids(config: Path) -> dict[str, int]:
    state = config.parent / "stack" / "state.json"
    return {item["name"]: item["pid"] for item in json.loads(state.read_text())}


def up(config: Path, *args: str):
    result = signalcheck("up", "--config", str(config), *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def store_rum_event(config: Path) -> None:
    """One page load sent with the demo app's ingest key, acknowledged as stored."""
    port = yaml.safe_load(config.read_text())["stack"]["ports"]["rum_ingest"]
    key = (config.parent / "stack" / "rum-api-key").read_text().strip()
    response = httpx.post(
        f"http://127.0.0.1:{port}/v1/events",
        json={"events": [event("page_load", metrics={"total": 321.0})]},
        headers={"X-API-Key": key},
        timeout=5,
    )
    assert response.status_code == 202, response.text


def rum_rows(config: Path) -> int:
    with sqlite3.connect(config.parent / "stack" / "rum.db", timeout=5) as db:
        return db.execute("SELECT COUNT(*) FROM rum_events").fetchone()[0]


def test_up_restarts_only_the_dead_component_and_keeps_stored_data(config):
    up(config)
    store_rum_event(config)
    before = pids(config)
    os.kill(before[KILLED], signal.SIGKILL)
    psutil.wait_procs([psutil.Process(before[KILLED])], timeout=10)
    assert signalcheck("status", "--config", str(config)).returncode == 1

    healed = up(config)

    after = pids(config)
    assert f"restarted {KILLED}; kept the other components" in healed.stdout
    assert after[KILLED] != before[KILLED] and alive(after[KILLED])
    assert {n: p for n, p in after.items() if n != KILLED} == {
        n: p for n, p in before.items() if n != KILLED
    }
    assert signalcheck("status", "--config", str(config)).returncode == 0
    assert rum_rows(config) == 1, "up deleted the RUM store"
    assert "deleted" not in healed.stdout


def test_up_fresh_deletes_stored_data_and_says_what(config):
    up(config)
    store_rum_event(config)
    refused = signalcheck("up", "--config", str(config), "--fresh")
    assert refused.returncode == 2 and "signalcheck down" in refused.stderr, refused.stderr
    assert signalcheck("down", "--config", str(config)).returncode == 0

    again = up(config)
    assert "deleted" not in again.stdout
    assert rum_rows(config) == 1
    assert signalcheck("down", "--config", str(config)).returncode == 0

    fresh = up(config, "--fresh")
    data = config.parent / "stack"
    deleted = {
        line.split("deleted ", 1)[1] for line in fresh.stdout.splitlines() if "deleted " in line
    }
    for path in ("rum.db", "capture.db", "prometheus", "alertmanager", "logs"):
        assert str(data / path) in deleted, fresh.stdout
    assert rum_rows(config) == 0
