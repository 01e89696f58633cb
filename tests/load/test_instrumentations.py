"""The `load` expectation on each instrumentation preset, against a real Prometheus scraping a
service that names and labels its request metric as that library does (one region each):
exact counts pass; one request the service did not count fails naming its route and status
class; a status label of classes (2xx) reads as well as one of codes; a counter with no
series in the region says so instead of a gap per route."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config
from signalcheck.evidence import Context, Outcome
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.load import check_load, prometheus_error_rate
from signalcheck.expectations import REQUEST_COUNTERS, LoadExpectation
from signalcheck.ledger import Entry
from signalcheck.stack.launcher import prometheus_command, wait_targets_up
from signalcheck.stack.ports import free_port
from tests.support import REPO, stop

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPOSED = {
    "demo": {"kind": "counter", "name": "http_requests_total", "job": "demo",
             "route_label": "route", "status_label": "status", "status_classes": False,
             "id_segment": "{item_id}"},
    "otel": {"kind": "histogram", "name": "http_server_request_duration_seconds",
             "route_label": "http_route", "status_label": "http_response_status_code",
             "status_classes": False, "id_segment": "{item_id}"},
    "prometheus-flask-exporter": {"kind": "histogram",
                                  "name": "flask_http_request_duration_seconds",
                                  "route_label": "url_rule", "status_label": "status",
                                  "status_classes": False, "id_segment": "<int:item_id>"},
    "prometheus-fastapi-instrumentator": {"kind": "counter", "name": "http_requests_total",
                                          "route_label": "handler", "status_label": "status",
                                          "status_classes": True, "id_segment": "{item_id}"},
}  # fmt: skip
"""Each library's request metric as it exposes it (its sources: OTel's stable HTTP server
duration as Prometheus names it, prometheus-flask-exporter with group_by="url_rule",
prometheus-fastapi-instrumentator's defaults), and its route template syntax; the region is
the preset's name."""
assert EXPOSED.keys() == REQUEST_COUNTERS.keys()


def sent(preset: str, items: int = 6) -> dict[str, dict[str, int]]:
    """What the service of `preset` answered during the window, by its route templates (as
    a user names the load's requests): all counted, but for one /v1/items 2xx."""
    item = f"/v1/items/{EXPOSED[preset]['id_segment']}"
    return {"/v1/items": {"2xx": items}, item: {"2xx": 3, "5xx": 1}}


SETTLE = 2.0
BUDGET = 3.0


@dataclass(frozen=True)
class Window:
    config: Config
    start: float
    end: float

    def judged(
        self, region: str, requests: dict, others: tuple[Entry, ...] = (), **exp: object
    ) -> Outcome:
        """The load expectation on a load entry of this window, beside `others` (entries of
        other actors in the same ledger)."""
        entry = Entry(ts=self.end, kind="load", region=region, start=self.start, end=self.end,
                      requests=requests)  # fmt: skip
        expectation = LoadExpectation(
            name="load-counted", instrumentation=region, settle=SETTLE, budget=BUDGET, **exp
        )
        backends = BackendSet(self.config.backends)
        entries = [entry, *others]
        try:
            return check_load(
                expectation, Context(config=self.config, entries=entries, backends=backends)
            )
        finally:
            backends.close()


def _prometheus_yml(ports: dict[str, int], directory: Path) -> Path:
    jobs = [
        {
            "job_name": EXPOSED[region].get("job", f"service-{region}"),
            "static_configs": [
                {"targets": [f"127.0.0.1:{port}"], "labels": {"region": region}},
            ],
        }
        for region, port in ports.items()
    ]
    path = directory / "prometheus.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": jobs,
            }
        )
    )
    return path


def _traffic(client: httpx.Client, base_url: str) -> None:
    for _ in range(5):
        client.get(f"{base_url}/v1/items").raise_for_status()
    assert client.get(f"{base_url}/v1/items", params={"uncounted": "1"}).status_code == 200
    for n in range(3):
        client.get(f"{base_url}/v1/items/{n}").raise_for_status()
    assert client.get(f"{base_url}/v1/items/4", params={"status": "503"}).status_code == 503


@pytest.fixture(scope="module")
def window(tmp_path_factory) -> Iterator[Window]:
    """The services and a Prometheus scraping them every second; each service answered
    `sent` within one window, which has settled when the tests start."""
    directory = tmp_path_factory.mktemp("instrumentations")
    ports = {region: free_port() for region in EXPOSED}
    prometheus_port = free_port()
    specs = [{**EXPOSED[region], "port": port} for region, port in ports.items()]
    log = (directory / "services.log").open("wb")
    services = subprocess.Popen(
        [sys.executable, "-m", "tests.load.counting_service", json.dumps(specs)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    prometheus = subprocess.Popen(
        prometheus_command(
            _prometheus_yml(ports, directory), directory / "tsdb", prometheus_port
        ),
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        prometheus_url = f"http://127.0.0.1:{prometheus_port}"
        wait_targets_up(prometheus_url, time.monotonic() + 30, 30)
        config = Config.model_validate(
            {
                "regions": {r: {"base_url": f"http://127.0.0.1:{p}"} for r, p in ports.items()},
                "backends": {"prometheus": {"url": prometheus_url}},
            }
        )
        start = time.time()
        with httpx.Client(timeout=5) as client:
            for port in ports.values():
                _traffic(client, f"http://127.0.0.1:{port}")
        end = time.time()
        time.sleep(SETTLE)
        yield Window(config, start, end)
    finally:
        stop(prometheus)
        stop(services)
        log.close()


@pytest.mark.parametrize("preset", list(EXPOSED))
def test_each_preset_passes_exact_counts_and_names_a_missing_request(window, preset):
    passed = window.judged(preset, sent(preset, items=5))
    assert passed.passed, passed.report("load")
    assert passed.time_to_appear is not None
    exp = REQUEST_COUNTERS[preset]
    assert f"sum by ({exp.route_label}, {exp.status_label}) ({exp.counter})" in passed.query
    item = f"/v1/items/{EXPOSED[preset]['id_segment']}"
    assert f"{item} 5xx: sent 1, counted 1" in passed.observed

    missing = window.judged(preset, sent(preset))
    assert not missing.passed
    assert f"{preset}: /v1/items 2xx: sent 6, counted 5" in missing.summary, missing.summary


def test_a_status_label_of_classes_reads_like_one_of_codes(window):
    classes, codes = "prometheus-fastapi-instrumentator", "otel"
    with httpx.Client(timeout=5) as client:
        for region, label in ((classes, "status"), (codes, "http_response_status_code")):
            counter = REQUEST_COUNTERS[region].counter
            response = client.get(
                f"{window.config.backends.prometheus.base_url}/api/v1/label/{label}/values",
                params={"match[]": f'{counter}{{region="{region}"}}'},
            )
            values = set(response.json()["data"])
            assert values == ({"2xx", "5xx"} if region == classes else {"200", "503"})
    for region in (classes, codes):
        settings = LoadExpectation(name="rate", instrumentation=region, settle=SETTLE)
        with PrometheusClient(window.config.backends.prometheus) as prometheus:
            rate = prometheus_error_rate(prometheus, region, window.start, window.end, settings)
        assert rate == pytest.approx(1 / 9)


def test_a_counter_without_series_in_the_region_says_so(window):
    region = "prometheus-flask-exporter"
    wrong = window.judged(region, sent(region), counter=REQUEST_COUNTERS["otel"].counter)
    assert not wrong.passed
    assert wrong.summary.startswith(
        f"{region}: no series of http_server_request_duration_seconds_count with region={region}"
        " in the window"
    ), wrong.summary
    assert "its series carry region=otel" in wrong.summary
    assert "expected labels url_rule and status" in wrong.summary
    assert wrong.summary.endswith("is the counter/instrumentation right?")
    assert "sent 6, counted 0" not in wrong.summary

    absent = window.judged(region, sent(region), counter="requests_nobody_counts_total")
    assert "(no series of it at all;" in absent.summary, absent.summary


def test_a_probe_right_after_the_load_is_not_counted_as_the_load(window):
    """A probe of the region 1.5 s after the load's end, in the same run (issue 25): the
    counter is read at its first scrape after the load, not when the check runs, so the
    probe's request is not the load's. A probe between the counter's two reads is named, and
    the load not judged."""
    region = "demo"
    base_url = str(window.config.regions[region].base_url).rstrip("/")
    with httpx.Client(timeout=5) as client:
        start = time.time()
        for _ in range(4):
            client.get(f"{base_url}/v1/items").raise_for_status()
        end = time.time()
        time.sleep(1.5)
        probed = time.time()
        client.get(f"{base_url}/v1/items").raise_for_status()
        probe_end = time.time()
    time.sleep(1.5)  # the probe's request scraped before the check reads the counter
    load = Window(window.config, start, end)
    after = Entry(ts=probe_end, kind="probe", check="items", region=region, start=probed,
                  end=probe_end, outcome="success")  # fmt: skip
    passed = load.judged(region, {"/v1/items": {"2xx": 4}}, others=(after,))
    assert passed.passed, passed.report("load")
    assert "/v1/items 2xx: sent 4, counted 4" in passed.observed

    during = Entry(**{**after.model_dump(), "start": end})  # running when the load ended
    refused = load.judged(region, {"/v1/items": {"2xx": 4}}, others=(during,))
    assert not refused.passed
    assert refused.summary.startswith(f"{region}: not judged: probe items {end:.3f}..")
    assert "so the service counted those requests too" in refused.summary, refused.summary
