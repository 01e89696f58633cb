"""Alert state a stopped Prometheus recorded never counts for a later run: a real Prometheus
(evaluating every second) fires one alert and holds another pending, is stopped, and
restarted on the same storage with the first alert's condition cleared and the second rule
gone, as after `signalcheck down`, a rule edit and `up`. Nothing marks the stopped
Prometheus' last `ALERTS` samples stale, so for 5 minutes a range query still answers them at
every step (asserted: that is what failed `quiet` before); `quiet` reads the raw samples and
passes, and still fails on an alert the restarted Prometheus itself holds pending."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Backend, load_config
from signalcheck.evidence import Context
from signalcheck.evidence.alert_series import PRIOR, firing_series
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.quiet import check_quiet
from signalcheck.expectations import QuietExpectation
from signalcheck.ledger import Entry
from signalcheck.stack.launcher import prometheus_command
from signalcheck.stack.ports import free_port

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DEADLINE = 30.0
BEFORE = [
    {"alert": "Stray", "expr": "vector(1)", "labels": {"region": "us-east-1"}},
    {"alert": "Held", "expr": "vector(1)", "for": "1h", "labels": {"region": "eu-west-1"}},
]
"""Firing and pending when Prometheus stops."""
AFTER = [{"alert": "Stray", "expr": "vector(1) > 1", "labels": {"region": "us-east-1"}}]
"""The restarted Prometheus' rules: Stray's condition cleared, Held gone."""
FRESH = {"alert": "Fresh", "expr": "vector(1)", "for": "1h", "labels": {"region": "us-east-1"}}
"""A stray the restarted Prometheus holds pending (loaded by a reload during the run)."""


class Prometheus:
    """A real Prometheus on a free port, its rules in `rules`, its storage kept across
    restarts; stopped by PID."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.rules = directory / "rules.yml"
        self.config = directory / "prometheus.yml"
        self.config.write_text(
            yaml.safe_dump(
                {"global": {"evaluation_interval": "1s"}, "rule_files": [str(self.rules)]}
            )
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def write_rules(self, rules: list[dict]) -> None:
        self.rules.write_text(
            yaml.safe_dump({"groups": [{"name": "g", "interval": "1s", "rules": rules}]})
        )

    def start(self) -> None:
        argv = prometheus_command(self.config, self.directory / "data", self.port)
        with (self.directory / "prometheus.log").open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.wait_for(lambda: httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=DEADLINE)
        self.proc = None

    def reload(self) -> None:
        httpx.post(f"{self.url}/-/reload", timeout=5).raise_for_status()

    def active(self) -> set[tuple[str, str]]:
        """(alertname, state) of the alerts the running Prometheus holds."""
        alerts = httpx.get(f"{self.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        return {(a["labels"]["alertname"], a["state"]) for a in alerts}

    def wait_for(self, condition, what: str = "Prometheus ready") -> None:
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                if condition():
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                log = (self.directory / "prometheus.log").read_text()[-2000:]
                raise AssertionError(f"no {what} within {DEADLINE:g}s: {log}")
            time.sleep(0.2)


@pytest.fixture
def prometheus(tmp_path) -> Iterator[Prometheus]:
    running = Prometheus(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def _context(tmp_path: Path, url: str, at: float) -> Context:
    """A run of one probe at `at`: the ledger's window opens then."""
    path = tmp_path / "signalcheck.yaml"
    regions = {r: {"base_url": "http://127.0.0.1:1"} for r in ("us-east-1", "eu-west-1")}
    path.write_text(yaml.safe_dump({"regions": regions, "backends": {"prometheus": {"url": url}}}))
    config = load_config(path, environ={})
    probe = Entry(ts=at + 1, kind="probe", region="us-east-1", check="health", start=at,
                  end=at + 1, outcome="success")  # fmt: skip
    return Context(config=config, entries=[probe], backends=BackendSet(config.backends))


def test_alert_state_of_a_stopped_prometheus_never_counts_for_the_next_run(tmp_path, prometheus):
    prometheus.write_rules(BEFORE)
    prometheus.start()
    prometheus.wait_for(
        lambda: prometheus.active() == {("Stray", "firing"), ("Held", "pending")},
        "Stray firing and Held pending",
    )
    time.sleep(2)  # a few samples of each
    prometheus.stop()
    stopped = time.time()
    prometheus.write_rules(AFTER)
    prometheus.start()
    # the run begins after the restart, past the look-back of its start (PRIOR and an
    # evaluation interval), well within Prometheus' 5-minute lookback of the last samples
    time.sleep(max(0.0, stopped + PRIOR + 2 - time.time()))
    began = time.time()
    ctx = _context(tmp_path, prometheus.url, began)

    with PrometheusClient(Backend(url=prometheus.url)) as client:
        stepped = client.query_range('ALERTS{alertstate=~"pending|firing"}', began, began + 1, 1)
        assert {s["metric"]["alertname"] for s in stepped} == {"Stray", "Held"}, (
            "a range query no longer answers the stopped Prometheus' samples: this test shows "
            "nothing"
        )
        before = firing_series(client, None, began - 60, began, 1.0, states="pending|firing")
        assert {s["metric"]["alertname"] for s in before} == {"Stray", "Held"}
        assert all(s["last"] <= stopped for s in before), before

    outcome = check_quiet(QuietExpectation(name="q", budget=3), ctx)
    assert outcome.passed, outcome.summary
    assert "no unexpected alert" in outcome.summary

    prometheus.write_rules([*AFTER, FRESH])
    prometheus.reload()
    prometheus.wait_for(lambda: ("Fresh", "pending") in prometheus.active(), "Fresh pending")
    outcome = check_quiet(
        QuietExpectation(name="q", budget=3), _context(tmp_path, prometheus.url, time.time())
    )
    assert not outcome.passed
    assert "Fresh (us-east-1) pending" in outcome.summary
    assert "Stray" not in outcome.summary and "Held" not in outcome.summary
