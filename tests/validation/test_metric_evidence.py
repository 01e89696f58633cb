"""Metric expectations judge this run, against a real Prometheus scraping two regions' exporters
every second (each exporter serves the exposition text a test sets, or fails its scrapes):

- a series an earlier run left is no evidence of this one: a counter that did not move since the
  run's start, a sample older than the run's start that the 5-minute lookback still returns;
  `series: exists_now` accepts them, as asked;
- a NaN value is not within bounds;
- an answer Prometheus marked with `warnings` (here a remote read that fails, as a Thanos store
  or Mimir ingester that does not answer) is no evidence: a negative check cannot pass on it;
- a counter's increase counts resets as Prometheus' `increase()` does, reads its value at the
  window's start from the last raw sample (a series marked stale by failed scrapes just before
  the window keeps its value), allows the failed attempts that may have reached the service,
  and says when the selector matched no series of a region.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config
from signalcheck.errors import PartialAnswerError
from signalcheck.evidence import Context, verifications_for
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.metrics import check_metric
from signalcheck.expectations import Expectations, MetricExpectation
from signalcheck.ledger import Entry
from signalcheck.stack.launcher import prometheus_command, wait_targets_up
from signalcheck.stack.ports import free_port
from signalcheck.waiting import wait_for

pytestmark = [pytest.mark.stack, pytest.mark.slow]

REGIONS = ("us-east-1", "eu-west-1")
DEADLINE = 30.0
BUDGET = 2.0
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@dataclass
class Exporter:
    """One region's /metrics on a free port: `lines` (exposition lines), 503 while `failing`."""

    lines: dict[str, str] = field(default_factory=dict)
    failing: bool = False

    def __post_init__(self) -> None:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = "".join(f"{line}\n" for line in exporter.lines.values()).encode()
                self.send_response(503 if exporter.failing else 200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Stage:
    url: str
    exporters: dict[str, Exporter]

    def prometheus(self) -> PrometheusClient:
        return PrometheusClient(Config.model_validate(_config(self.url)).backends.prometheus)

    def scraped(self, promql: str) -> None:
        """Wait until Prometheus answers `promql` with a series, then one scrape more."""
        with self.prometheus() as prometheus:
            wait_for(lambda: prometheus.query(promql), timeout=DEADLINE, what=f"{promql} scraped")
        time.sleep(1.1)

    def gone(self, promql: str) -> None:
        with self.prometheus() as prometheus:
            wait_for(lambda: not prometheus.query(promql), timeout=DEADLINE, what=f"{promql} stale")


def _config(url: str) -> dict:
    return {
        "regions": {r: {"base_url": "http://127.0.0.1:1"} for r in REGIONS},
        "backends": {"prometheus": {"url": url, "timeout": 5}},
    }


def _start_prometheus(directory: Path, document: dict) -> tuple[subprocess.Popen, str]:
    config = directory / "prometheus.yml"
    config.write_text(yaml.safe_dump(document))
    port = free_port()
    log = (directory / "prometheus.log").open("ab")
    proc = subprocess.Popen(
        prometheus_command(config, directory / "data", port), stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(
        lambda: _ready(url),
        timeout=DEADLINE,
        what=f"Prometheus ready at {url} (log {directory / 'prometheus.log'})",
    )
    return proc, url


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=DEADLINE)


@pytest.fixture(scope="module")
def stage(tmp_path_factory) -> Iterator[Stage]:
    directory = tmp_path_factory.mktemp("prometheus")
    exporters = {region: Exporter() for region in REGIONS}
    jobs = [
        {
            "job_name": "app",
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "static_configs": [
                {"targets": [f"127.0.0.1:{e.port}"], "labels": {"region": region}}
                for region, e in exporters.items()
            ],
        }
    ]
    proc, url = _start_prometheus(directory, {"scrape_configs": jobs})
    try:
        wait_targets_up(url, time.monotonic() + DEADLINE, DEADLINE)
        yield Stage(url, exporters)
    finally:
        _stop(proc)
        for exporter in exporters.values():
            exporter.close()


def _context(url: str, entries: list[Entry]) -> Context:
    config = Config.model_validate(_config(url))
    return Context(config=config, entries=entries, backends=BackendSet(config.backends))


def _probe(region: str, start: float, end: float, error_class: str | None = None, **fields):
    return Entry(ts=end, kind="probe", check="c", region=region, trace_id=TRACE_ID,
                 start=start, end=end, outcome="success" if error_class is None else "failure",
                 error_class=error_class, **fields)  # fmt: skip


def _set(stage: Stage, name: str, values: dict[str, str]) -> None:
    for region, value in values.items():
        stage.exporters[region].lines[name] = f"{name} {value}"


# ----------------------------------------------------------------- series of this run


def test_a_counter_that_did_not_move_in_this_run_is_no_evidence_of_its_region(stage):
    """eu-west-1's probes all failed to connect: its counter, long-lived, still scraped, did
    not move; us-east-1's did. The old engine's instant query found both: a false green."""
    _set(stage, "t3_requests_total", {"us-east-1": "5", "eu-west-1": "5"})
    stage.scraped('t3_requests_total{region="eu-west-1"} == 5')
    start = time.time()
    _set(stage, "t3_requests_total", {"us-east-1": "6"})
    stage.scraped('t3_requests_total{region="us-east-1"} == 6')
    end = time.time()
    ctx = _context(
        stage.url,
        [_probe("us-east-1", start, end), _probe("eu-west-1", start, end, "connect_error")],
    )
    exp = MetricExpectation(name="m", query="t3_requests_total", every_region=True, budget=BUDGET)
    outcome = check_metric(exp, ctx)
    assert not outcome.passed
    assert "no series for region(s) eu-west-1 of this run" in outcome.summary, outcome.summary
    assert "moved since the run's start" in outcome.summary
    assert "only from before the run: ['eu-west-1']" in outcome.summary
    assert "series: exists_now accepts" in outcome.summary

    opted_in = exp.model_copy(update={"series": "exists_now"})
    assert check_metric(opted_in, ctx).passed


def test_a_sample_older_than_the_run_is_no_evidence_though_the_lookback_returns_it(stage):
    """eu-west-1 exposes its gauge with a timestamp from before the run (Prometheus keeps no
    stale marker for it: the instant query returns it for 5 minutes)."""
    old_ms = int((time.time() - 30) * 1000)
    stage.exporters["us-east-1"].lines["t3_up"] = "t3_up 1"
    stage.exporters["eu-west-1"].lines["t3_up"] = f"t3_up 1 {old_ms}"
    stage.scraped('t3_up{region="eu-west-1"}')
    start = time.time()
    stage.scraped(f't3_up{{region="us-east-1"}} and timestamp(t3_up) > {start}')
    ctx = _context(stage.url, [_probe(r, start, time.time()) for r in REGIONS])
    exp = MetricExpectation(name="m", query="t3_up", every_region=True, min=1, budget=BUDGET)
    outcome = check_metric(exp, ctx)
    assert not outcome.passed
    assert "no series for region(s) eu-west-1 of this run" in outcome.summary, outcome.summary
    assert "scraped since the run's start" in outcome.summary
    assert check_metric(exp.model_copy(update={"series": "exists_now"}), ctx).passed


def test_a_nan_value_is_not_within_bounds(stage):
    _set(stage, "t9_ratio", {"us-east-1": "0.5", "eu-west-1": "NaN"})
    start = time.time()
    stage.scraped(f"timestamp(t9_ratio) > {start}")
    ctx = _context(stage.url, [_probe(r, start, time.time()) for r in REGIONS])
    exp = MetricExpectation(name="m", query="t9_ratio", min=0, max=1, budget=BUDGET)
    outcome = check_metric(exp, ctx)
    assert not outcome.passed
    assert "value NaN of {" in outcome.summary and "eu-west-1" in outcome.summary, outcome.summary


# ------------------------------------------------------------------ counter increases


def _increase(name: str) -> MetricExpectation:
    return MetricExpectation(
        name="m", query=name, increase_equals="probes", check="c", budget=BUDGET
    )


def test_failed_attempts_that_reached_the_service_may_be_counted_and_no_more(stage):
    """us-east-1: 9 successful runs, 4 of them after two failed attempts, and 2 failed runs
    that got a 503: the service counted 19 (the old engine: "counter rose by 19, the ledger
    recorded 9"). eu-west-1: 1 run after one failed attempt, counted 3: one too many."""
    _set(stage, "t11_created_total", {"us-east-1": "10", "eu-west-1": "10"})
    stage.scraped('t11_created_total{region="eu-west-1"} == 10')
    start = time.time()
    _set(stage, "t11_created_total", {"us-east-1": "29", "eu-west-1": "13"})
    stage.scraped('t11_created_total{region="eu-west-1"} == 13')
    end = time.time()
    entries = [
        *[_probe("us-east-1", start, end, attempts=1) for _ in range(5)],
        *[_probe("us-east-1", start, end, attempts=3) for _ in range(4)],
        *[_probe("us-east-1", start, end, "http_status", attempts=1) for _ in range(2)],
        _probe("us-east-1", start, end, "connect_error", attempts=1),
        _probe("eu-west-1", start, end, attempts=2),
    ]
    ctx = _context(stage.url, entries)
    outcome = check_metric(_increase("t11_created_total"), ctx)
    assert not outcome.passed
    assert outcome.summary == (
        "eu-west-1: counter rose by 3, the ledger recorded 1 successful run(s) and 1 failed "
        "attempt(s) that may have reached the service (1 to 2)"
    )


def test_a_counter_reset_by_a_restart_counts_as_increase_counts_it(stage):
    """us-east-1's service restarted in the window: 5 before, 1 after (the old engine:
    "counter rose by -4, the ledger recorded 1")."""
    _set(stage, "t11_resets_total", {"us-east-1": "5"})
    stage.scraped('t11_resets_total{region="us-east-1"} == 5')
    start = time.time()
    _set(stage, "t11_resets_total", {"us-east-1": "1"})
    stage.scraped('t11_resets_total{region="us-east-1"} == 1')
    entries = [_probe("us-east-1", start, time.time())]
    outcome = check_metric(_increase("t11_resets_total"), _context(stage.url, entries))
    assert outcome.passed, outcome.summary
    assert outcome.time_to_appear is not None


def test_the_value_at_the_window_start_is_read_through_a_stale_marker(stage):
    """eu-west-1's scrapes failed (a SIGSTOPped service): Prometheus marked its series stale,
    and the window opens before the next good scrape. The old engine read the start as 0:
    "counter rose by 81, the ledger recorded 1"."""
    _set(stage, "t11_stale_total", {"eu-west-1": "80"})
    stage.scraped('t11_stale_total{region="eu-west-1"} == 80')
    exporter = stage.exporters["eu-west-1"]
    exporter.failing = True
    try:
        stage.gone('t11_stale_total{region="eu-west-1"}')
        start = time.time()
    finally:
        exporter.failing = False
    _set(stage, "t11_stale_total", {"eu-west-1": "81"})
    stage.scraped('t11_stale_total{region="eu-west-1"} == 81')
    entries = [_probe("eu-west-1", start, time.time())]
    outcome = check_metric(_increase("t11_stale_total"), _context(stage.url, entries))
    assert outcome.passed, outcome.summary


def test_a_region_the_selector_matches_no_series_of_is_named_so(stage):
    _set(stage, "t14_made_total", {"us-east-1": "0"})
    stage.scraped('t14_made_total{region="us-east-1"} == 0')
    start = time.time()
    _set(stage, "t14_made_total", {"us-east-1": "1"})
    stage.scraped('t14_made_total{region="us-east-1"} == 1')
    entries = [_probe(r, start, time.time()) for r in REGIONS]
    outcome = check_metric(_increase("t14_made_total"), _context(stage.url, entries))
    assert not outcome.passed
    assert outcome.summary.startswith(
        "eu-west-1: t14_made_total matched no series with region='eu-west-1' from 600 s before "
        "the window's start to "
    ), outcome.summary
    assert "counter rose by" not in outcome.summary


# --------------------------------------------------------------------------- warnings


@pytest.fixture
def partial(tmp_path) -> Iterator[str]:
    """A real Prometheus whose every answer is partial: its remote read endpoint is dead, so
    each query carries a `warnings` entry (storage/fanout: a secondary's error is a warning)."""
    dead = f"http://127.0.0.1:{free_port()}/read"
    document = {
        "global": {"evaluation_interval": "1s"},
        "remote_read": [{"url": dead, "read_recent": True}],
    }
    proc, url = _start_prometheus(tmp_path, document)
    try:
        yield url
    finally:
        _stop(proc)


def test_an_answer_with_warnings_is_no_evidence_either_way(partial):
    now = time.time()
    ctx = _context(partial, [_probe("us-east-1", now - 1, now)])
    expectations = Expectations.model_validate({"quiet": [{"name": "q", "budget": 1}]})
    (quiet,) = verifications_for(expectations)
    outcome = quiet.judge(ctx)  # nothing fires here, but Prometheus could not say so fully
    assert not outcome.passed, outcome.summary
    assert "remote_read" in outcome.summary, outcome.summary

    backend = Config.model_validate(_config(partial)).backends.prometheus
    with PrometheusClient(backend) as p, pytest.raises(PartialAnswerError) as raised:
        p.query('ALERTS{alertstate="firing"}')
    message = str(raised.value)
    assert "answered with warnings" in message and "remote_read" in message, message
    assert 'ALERTS{alertstate="firing"}' in message
