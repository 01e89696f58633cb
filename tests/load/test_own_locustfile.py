"""`signalcheck load` with the user's own locustfile: its HttpUser and FastHttpUser classes
(and its LoadTestShape) run against a loopback service that records what it gets; the ledger's
`load` entry counts, per Locust request name, exactly what that service received, and what
went to another host apart. A locustfile that is missing or has no User class: exit 2."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from signalcheck.ledger import read_entries
from signalcheck.stack.ports import free_port
from tests.load.conftest import finish, signalcheck_load
from tests.recording_service import recorded, recording_service
from tests.support import stop

USERS = """
import random

from locust import HttpUser, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser


class Shopper(HttpUser):
    wait_time = constant_throughput(5)

    @task
    def item(self):
        self.client.get(f"/items/{random.randint(1, 99)}", name="/items/{item_id}")


class Orders(FastHttpUser):
    wait_time = constant_throughput(5)

    @task
    def order(self):
        self.client.post("/orders", json={"n": 1}, name="/orders")
        self.client.get("OTHER/elsewhere", name="/elsewhere")
"""

SHAPED = """
from locust import HttpUser, LoadTestShape, constant_throughput, task


class Reader(HttpUser):
    wait_time = constant_throughput(5)

    @task
    def item(self):
        self.client.get("/items/7", name="/items/{item_id}")


class Steps(LoadTestShape):
    def tick(self):
        run_time = self.get_run_time()
        if run_time < 1.5:
            return 1, 5
        return (3, 5) if run_time < 3 else None
"""

PROFILE = {"shape": "smoke", "users": 2, "spawn_rate": 2, "duration": 4}
ROUTES = [(re.compile(r"^/items/\d+$"), "/items/{item_id}"), (re.compile(r"^/orders$"), "/orders")]


@pytest.fixture
def services(tmp_path) -> Iterator[dict[str, tuple[int, Path]]]:
    """The region's service and another host: name -> (port, request log)."""
    ports = {"region": free_port(), "other": free_port()}
    started = []
    try:
        for name, port in ports.items():
            started.append(recording_service(port, tmp_path / f"{name}.jsonl"))
        yield {name: (port, tmp_path / f"{name}.jsonl") for name, port in ports.items()}
    finally:
        for process in started:
            stop(process)


@pytest.fixture
def config_path(tmp_path, services) -> Path:
    other = f"http://127.0.0.1:{services['other'][0]}"
    (tmp_path / "users.py").write_text(USERS.replace("OTHER", other))
    (tmp_path / "shaped.py").write_text(SHAPED)
    raw = {
        "regions": {"eu-west-1": {"base_url": f"http://127.0.0.1:{services['region'][0]}"}},
        "runs_dir": "runs",
        "load": {
            "stop_timeout": 2,
            "profiles": {"own": {**PROFILE, "locustfile": "users.py"}},
        },
    }
    path = tmp_path / "signalcheck.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def received(log: Path) -> dict[str, dict[str, int]]:
    """What a recording service got, per route template, all answered 200."""
    counts: Counter[str] = Counter()
    for request in recorded(log):
        path = request["path"]
        counts[next((name for rx, name in ROUTES if rx.match(path)), path)] += 1
    return {route: {"2xx": n} for route, n in counts.items()}


def load_entry(config_path: Path) -> dict:
    [ledger] = (config_path.parent / "runs").glob("*/ledger.jsonl")
    [entry] = [e for e in read_entries(ledger) if e.kind == "load"]
    return entry.model_dump()


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["0", "1"])
def test_own_users_are_counted_per_route_as_the_service_received_them(
    config_path, services, workers
):
    code, output = finish(
        signalcheck_load(config_path, "--profile", "own", "--workers", workers), timeout=120
    )
    assert code == 0, output
    entry = load_entry(config_path)
    assert entry["locustfile"] == str(config_path.parent / "users.py")
    assert entry["user_classes"] == ["Orders", "Shopper"] and entry["shape"] == "smoke"
    assert entry["workers"] == int(workers)
    region = received(services["region"][1])
    assert set(region) == {"/items/{item_id}", "/orders"}, region
    assert entry["requests"] == region
    other = f"127.0.0.1:{services['other'][0]}"
    assert entry["other_requests"] == {other: received(services["other"][1])}
    assert entry["rum_requests"] == {}


@pytest.mark.slow
def test_own_load_test_shape_runs_instead_of_the_profiles(config_path, services):
    shaped = str(config_path.parent / "shaped.py")
    code, output = finish(
        signalcheck_load(config_path, "--profile", "own", "--locustfile", shaped), timeout=120
    )
    assert code == 0, output
    entry = load_entry(config_path)
    assert entry["shape"] == "Steps" and entry["user_classes"] == ["Reader"]
    assert entry["users"] == 3, "the shape's peak, not the profile's users"
    assert entry["requests"] == received(services["region"][1]) != {}
    assert entry["end"] - entry["start"] < 3.8, "the shape's own end, before the profile's 4 s"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--locustfile: {path} is not a file"),
        ("x = 1\n", "{path}: defines no User class"),
    ],
)
def test_an_unusable_locustfile_exits_2_with_one_line_before_locust_starts(
    config_path, services, content, message
):
    path = config_path.parent / "theirs.py"
    if content is not None:
        path.write_text(content)
    code, output = finish(
        signalcheck_load(config_path, "--profile", "own", "--locustfile", str(path)), timeout=60
    )
    assert code == 2, output
    [line] = output.strip().splitlines()
    assert line.startswith("signalcheck: ") and message.format(path=path) in line, line
    assert not (config_path.parent / "runs").exists()
    assert recorded(services["region"][1]) == []
