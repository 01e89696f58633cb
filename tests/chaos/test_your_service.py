"""Faults on a service that is not the demo: the example experiments with stock providers
(chaos/experiments/examples/process-stop.json, http-fault-switch.json) run for real by
`signalcheck chaos run` against a small loopback service this test starts, in a region whose
config says it is the user's own (`demo: false`).

The process example really freezes the service (SIGSTOP) and continues it (SIGCONT); the
fault-switch example really switches the service's own fault endpoint on and off. Each lands
in the ledger as a fault of the region, opened and closed. No local stack runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from signalcheck.chaos import faultlog
from signalcheck.config import Config, load_config
from signalcheck.ledger import LEDGER_FILE, Entry, Ledger
from signalcheck.stack.ports import free_port
from signalcheck.waiting import wait_for
from tests.chaos.conftest import REGION, journal, ledger, tail
from tests.support import REPO, alive, stop, write_stack_config

EXAMPLES = REPO / "chaos" / "experiments" / "examples"
TOKEN = "fault-switch-token"
RUN_TIMEOUT = 120.0
SERVICE = f"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {{"error_rate": 0.0}}

class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(500 if state["error_rate"] else 200, {{"ok": not state["error_rate"]}})

    def switch(self, rate):
        if self.headers.get("Authorization") != "Bearer {TOKEN}":
            return self.answer(401, {{"error": "unauthorized"}})
        if self.path != "/internal/faults":
            return self.answer(404, {{"error": self.path}})
        state["error_rate"] = rate
        self.answer(200, state)

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.switch(float(json.loads(body)["error_rate"]))

    def do_DELETE(self):
        self.switch(0.0)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""
"""A service of the user's: answers GET with 200 (500 while its fault switch is on), and
switches its faults at PUT/DELETE /internal/faults with a bearer token."""


class Service:
    def __init__(self, process: subprocess.Popen, url: str, pid_file: Path):
        self.process, self.url, self.pid_file = process, url, pid_file

    def answers(self, timeout: float = 2.0) -> bool:
        try:
            return httpx.get(self.url, timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False


@pytest.fixture
def service(tmp_path) -> Iterator[Service]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVICE, str(port)])
    pid_file = tmp_path / "service.pid"
    pid_file.write_text(f"{process.pid}\n")
    running = Service(process, f"http://127.0.0.1:{port}/", pid_file)
    try:
        wait_for(running.answers, timeout=15, what="the loopback service to answer")
        yield running
    finally:
        os.kill(process.pid, signal.SIGCONT)  # a stopped process would not act on SIGTERM
        stop(process)


@pytest.fixture
def config(tmp_path, service) -> Config:
    """The stack config with REGION the user's own service, on the loopback service."""
    path = write_stack_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["regions"][REGION] = {"base_url": service.url, "demo": False}
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, environ={})


def start_chaos_run(
    config: Config, experiment: Path, tmp_path: Path, **env: str
) -> subprocess.Popen:
    """`signalcheck chaos run experiment` in the background, its output in tmp_path."""
    with (tmp_path / "chaos-run.out").open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "signalcheck", "chaos", "run", str(experiment),
             "--config", str(config.source)],
            env={**os.environ, "SIGNALCHECK_CHAOS_REGION": REGION, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )  # fmt: skip


@pytest.fixture
def stopped_by_pid() -> Iterator[list[subprocess.Popen]]:
    """Every `signalcheck chaos run` the test started is stopped by its PID at the end."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            stop(process)


def the_run(config: Config) -> Path:
    (run_dir,) = config.runs_dir.iterdir()
    return run_dir


def the_fault(run_dir: Path, action: str) -> Entry:
    """The run's one fault (its latest entry), of `action` in REGION, and planned so."""
    (fault,) = faultlog.faults(Ledger(run_dir / LEDGER_FILE))
    assert (fault.field("action"), fault.field("region")) == (action, REGION), fault
    planned = [e for e in ledger(run_dir) if e.kind == "planned"]
    assert [(e.field("action"), e.field("region")) for e in planned] == [(action, REGION)]
    return fault


def test_the_process_example_stops_and_continues_the_service_and_records_the_fault(
    config, service, tmp_path, stopped_by_pid
) -> None:
    server = psutil.Process(service.process.pid)
    run = start_chaos_run(
        config,
        EXAMPLES / "process-stop.json",
        tmp_path,
        SERVICE_PID_FILE=str(service.pid_file),
        SERVICE_URL=service.url,
        SIGNALCHECK_CHAOS_HOLD="3",
    )
    stopped_by_pid.append(run)
    wait_for(
        lambda: server.status() == psutil.STATUS_STOPPED or run.poll() is not None,
        timeout=60,
        what="the chaos run to stop the service process",
        max_interval=0.2,
    )
    stopped_at = time.time()
    assert server.status() == psutil.STATUS_STOPPED, (tmp_path / "chaos-run.out").read_text()
    assert not service.answers(timeout=1), "a stopped service answered"
    assert run.wait(timeout=RUN_TIMEOUT) == 0, tail((tmp_path / "chaos-run.out").read_text())

    assert alive(server) and server.status() != psutil.STATUS_STOPPED, "not continued"
    assert service.answers()
    run_dir = the_run(config)
    fault = the_fault(run_dir, "kill")
    assert fault.field("params") == {"activity": "freeze-service", "provider": "process"}
    assert fault.field("start") <= stopped_at <= fault.field("end"), fault
    assert fault.field("error") is None
    done = journal(run_dir)
    assert [(r["activity"]["name"], r["output"]["status"]) for r in done["run"]] == [
        ("freeze-service", 0),
        ("continue-service", 0),
    ]
    assert done["steady_states"]["after"]["steady_state_met"] is True


def test_the_fault_switch_example_turns_the_services_own_errors_on_and_off(
    config, service, tmp_path, stopped_by_pid
) -> None:
    run = start_chaos_run(
        config,
        EXAMPLES / "http-fault-switch.json",
        tmp_path,
        FAULT_URL=f"{service.url}internal/faults",
        FAULT_TOKEN=TOKEN,
        SIGNALCHECK_CHAOS_HOLD="1",
    )
    stopped_by_pid.append(run)
    assert run.wait(timeout=RUN_TIMEOUT) == 0, tail((tmp_path / "chaos-run.out").read_text())

    run_dir = the_run(config)
    fault = the_fault(run_dir, "errors")
    assert fault.field("params") == {"activity": "switch-errors-on", "provider": "http"}
    assert fault.field("end") is not None and fault.field("error") is None
    outputs = [(r["activity"]["name"], r["output"]) for r in journal(run_dir)["run"]]
    assert [(name, out["status"], out["body"]) for name, out in outputs] == [
        ("switch-errors-on", 200, {"error_rate": 1.0}),
        ("switch-errors-off", 200, {"error_rate": 0.0}),
    ]
    assert service.answers()
