"""Checks that judge only once the evidence of the whole run can be there, and never pass with
nothing to check (issue 25): the rules check when Prometheus loaded no rules or a glob
matches no file; the cardinality check before a scrape after the run has landed (a real
Prometheus scraping a service every 4 s), or with a limit on a label no series has; the
no-errors check before the log exporters delivered what was emitted up to the run's end (the
real OTel SDK batching to the real capture receiver)."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import yaml
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.capture.store import CaptureStore
from signalcheck.config import Config
from signalcheck.evidence import Context, Outcome
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.cardinality import check_cardinality
from signalcheck.evidence.logs import check_logs
from signalcheck.evidence.rules import check_rules
from signalcheck.expectations import CardinalityExpectation, LogExpectation, RulesExpectation
from signalcheck.ledger import Entry
from signalcheck.stack.launcher import prometheus_command, wait_targets_up
from signalcheck.stack.ports import free_port
from signalcheck.waiting import wait_for
from tests.support import REPO, capture_receiver, stop

pytestmark = [pytest.mark.stack, pytest.mark.slow]

REGION = "eu-west-1"
JOB = "svc"
SCRAPE_SECONDS = 4
SELECTOR = f'http_requests_total{{job="{JOB}"}}'
ROUTE = r"(/[a-z0-9]+|/\{[a-z_]+\})+"
"""Route templates: lower-case segments or {name} (a raw id with a dash is not one)."""


@dataclass(frozen=True)
class Scraped:
    config: Config
    service: str
    instance: str


def _judged(config: Config, entries: list[Entry], check, expectation) -> Outcome:
    backends = BackendSet(config.backends)
    try:
        return check(expectation, Context(config=config, entries=entries, backends=backends))
    finally:
        backends.close()


def _probe(start: float, end: float) -> Entry:
    return Entry(ts=end, kind="probe", check="items", region=REGION, start=start, end=end,
                 outcome="success")  # fmt: skip


@pytest.fixture(scope="module")
def scraped(tmp_path_factory) -> Iterator[Scraped]:
    """A service counting its requests (route label: the path, numeric ids as {item_id})
    and a Prometheus, with no rule files, scraping it every SCRAPE_SECONDS."""
    directory = tmp_path_factory.mktemp("settled")
    port, prometheus_port = free_port(), free_port()
    spec = {"kind": "counter", "name": "http_requests_total", "route_label": "route",
            "status_label": "status", "status_classes": False, "id_segment": "{item_id}",
            "port": port}  # fmt: skip
    (directory / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": f"{SCRAPE_SECONDS}s"},
                "scrape_configs": [
                    {"job_name": JOB, "static_configs": [
                        {"targets": [f"127.0.0.1:{port}"], "labels": {"region": REGION}}]}
                ],
            }
        )
    )  # fmt: skip
    log = (directory / "processes.log").open("wb")
    service = subprocess.Popen(
        [sys.executable, "-m", "tests.load.counting_service", json.dumps([spec])],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    prometheus = subprocess.Popen(
        prometheus_command(directory / "prometheus.yml", directory / "tsdb", prometheus_port),
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{prometheus_port}"
        wait_targets_up(url, time.monotonic() + 30, 30)
        config = Config.model_validate(
            {
                "regions": {REGION: {"base_url": f"http://127.0.0.1:{port}"}},
                "backends": {"prometheus": {"url": url}},
            }
        )
        yield Scraped(config, f"http://127.0.0.1:{port}", f"127.0.0.1:{port}")
    finally:
        stop(prometheus)
        stop(service)
        log.close()


def _right_after_a_scrape(scraped: Scraped) -> float:
    """Wait for the next scrape of the service; return its time (a run started now is a
    whole scrape interval from the next one)."""
    promql = f'timestamp(up{{instance="{scraped.instance}"}})'
    with PrometheusClient(scraped.config.backends.prometheus) as prometheus:
        first = prometheus.query(promql)[0]["value"][1]

        def next_scrape() -> float | None:
            value = prometheus.query(promql)[0]["value"][1]
            return float(value) if value != first else None

        scraped_at, _ = wait_for(
            next_scrape, timeout=3 * SCRAPE_SECONDS, what=f"a scrape of {scraped.instance}",
            interval=0.05, max_interval=0.05,
        )  # fmt: skip
    return scraped_at


def test_rules_with_nothing_to_check_fail_naming_what_was_empty(scraped, tmp_path):
    expectation = RulesExpectation(
        name="rules", rule_files=[tmp_path / "rules" / "*.yml"],
        dashboards=[tmp_path / "dashboards" / "*.json"], budget=1,
    )  # fmt: skip
    now = time.time()
    outcome = _judged(scraped.config, [_probe(now - 1, now)], check_rules, expectation)
    assert not outcome.passed, outcome.summary
    assert "Prometheus has loaded no rules (its rule_files load nothing)" in outcome.summary
    assert f"rule_files '{tmp_path / 'rules' / '*.yml'}' matches no file" in outcome.summary
    assert f"dashboards '{tmp_path / 'dashboards' / '*.json'}' matches no file" in (outcome.summary)


def test_cardinality_waits_for_a_scrape_after_the_run(scraped):
    """The run's last request has a raw id in its route: unseen until the scrape after the
    run, which a budget shorter than the scrape interval does not reach (it fails saying so),
    and a longer one does (it fails naming the raw path)."""
    with httpx.Client(timeout=5) as client:
        client.get(f"{scraped.service}/v1/items/1").raise_for_status()
        _right_after_a_scrape(scraped)  # the templated series is in, the next scrape far
        start = time.time()
        client.get(f"{scraped.service}/v1/items/7f3a-91c2").raise_for_status()
        end = time.time()
    ledger = [_probe(start, end)]
    limits = {"route": {"max_values": 10, "pattern": ROUTE}}

    short = CardinalityExpectation(name="c", selector=SELECTOR, labels=limits, budget=1)
    unscraped = _judged(scraped.config, ledger, check_cardinality, short)
    assert not unscraped.passed, unscraped.summary
    assert f"the series of {SELECTOR} have no sample since the run's end ({end:.3f})" in (
        unscraped.summary
    )

    settled = short.model_copy(update={"budget": 2 * SCRAPE_SECONDS})
    raw = _judged(scraped.config, ledger, check_cardinality, settled)
    assert not raw.passed
    assert "value(s) of label 'route' do not match" in raw.summary, raw.summary
    assert "/v1/items/7f3a-91c2" in raw.summary


def test_a_limit_on_a_label_no_series_has_fails_saying_so(scraped):
    with httpx.Client(timeout=5) as client:
        start = time.time()
        client.get(f"{scraped.service}/v1/items/2").raise_for_status()
        end = time.time()
    expectation = CardinalityExpectation(
        name="c", selector=SELECTOR, labels={"handler": {"max_values": 20}},
        budget=2 * SCRAPE_SECONDS,
    )  # fmt: skip
    outcome = _judged(scraped.config, [_probe(start, end)], check_cardinality, expectation)
    assert not outcome.passed
    assert outcome.summary == f"label 'handler' is on no series of {SELECTOR}"


@pytest.fixture
def capture(tmp_path) -> Iterator[Config]:
    """The real capture receiver; a config reading logs from it."""
    store = CaptureStore(tmp_path / "capture.db")
    try:
        with capture_receiver(store) as url:
            yield Config.model_validate(
                {
                    "regions": {REGION: {"base_url": "http://127.0.0.1:1"}},
                    "backends": {"capture": {"url": url}},
                }
            )
    finally:
        store.close()


def test_no_errors_waits_for_the_exporters_batch_delay(capture):
    """An ERROR logged as the run ends, by the OTel SDK batching its records every 1.2 s (a
    user's exporter setting): it arrives about 1.2 s after the run, past a look 1 s after it,
    within the settle time."""
    url = str(capture.backends.capture.base_url).rstrip("/")
    provider = LoggerProvider(resource=Resource({"service.name": "svc", "cloud.region": REGION}))
    provider.add_log_record_processor(
        BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=f"{url}/v1/logs", timeout=5), schedule_delay_millis=1200
        )
    )
    logger = logging.getLogger("tests.settled")
    logger.propagate = False
    handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    try:
        start = time.time()
        logger.error("payment failed as the run ended")
        end = time.time()
        expectation = LogExpectation(name="e", evidence="no_errors", backend="capture", budget=5)
        outcome = _judged(capture, [_probe(start, end)], check_logs, expectation)
    finally:
        logger.removeHandler(handler)
        provider.shutdown()
    assert not outcome.passed, outcome.summary
    assert "1 error-level record(s) in the healthy window" in outcome.summary
    assert "payment failed as the run ended" in outcome.summary
    assert re.search(r"looked 2\.\ds after the window's end \(settle 2s\)", outcome.summary)
