"""A judged run without a stack: a config of two metric expectations, a ledger with a probe
entry, and Prometheus answering canned bodies.

The bodies are prometheus/prometheus docs/querying/api.md (commit 01db19c0): the instant
query example (`up` answering job prometheus "1" and job node "0") and the build
information example; a query naming a job answers that job's series of the example.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from signalcheck.ledger import Ledger
from tests.validation.documented_api import CannedServer, canned_server

UP = [
    {"metric": {"__name__": "up", "job": "prometheus", "instance": "localhost:9090"},
     "value": [1435781451.781, "1"]},
    {"metric": {"__name__": "up", "job": "node", "instance": "localhost:9100"},
     "value": [1435781451.781, "0"]},
]  # fmt: skip
BUILDINFO = {
    "status": "success",
    "data": {
        "version": "2.13.1",
        "revision": "cb7cbad5f9a2823a622aaa668833ca04f50a0ea7",
        "branch": "master",
        "buildUser": "julius@desktop",
        "buildDate": "20191102-16:19:59",
        "goVersion": "go1.13.1",
    },
}
EXPECTATIONS = {
    "metrics": [
        {"name": "prometheus-up", "query": 'up{job="prometheus"}', "min": 1, "budget": 0.3},
        {"name": "node-up", "query": 'up{job="node"}', "min": 1, "budget": 0.3},
    ]
}
"""One that the canned Prometheus satisfies (value 1) and one it cannot (value 0)."""
ONLY_SIGNALCHECK = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
"""Environment of a pytest that loads no plugin by itself: the heavy ones of this venv
(locust, schemathesis) cost seconds per run; signalcheck is then loaded by its entry-point
name (`-p signalcheck`)."""


def _query(params: dict[str, list[str]]) -> tuple[int, dict]:
    query = params["query"][0]
    series = [s for s in UP if f'job="{s["metric"]["job"]}"' in query]
    return 200, {"status": "success", "data": {"resultType": "vector", "result": series}}


@pytest.fixture
def prometheus() -> Iterator[CannedServer]:
    routes = {"/api/v1/status/buildinfo": (200, BUILDINFO), "/api/v1/query": _query}
    with canned_server(routes) as server:
        yield server


@pytest.fixture
def config_file(tmp_path: Path, prometheus: CannedServer) -> Path:
    """A config outside any checkout: the two expectations, the canned Prometheus."""
    path = tmp_path / "config" / "signalcheck.yaml"
    path.parent.mkdir()
    config = {
        "regions": {"us-east-1": {"base_url": "http://127.0.0.1:1"}},
        "backends": {"prometheus": {"url": prometheus.url, "timeout": 2}},
        "expectations": EXPECTATIONS,
        "runs_dir": str(tmp_path / "runs"),
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A run in which a probe touched the system."""
    ledger = Ledger(tmp_path / "runs" / "run-1" / "ledger.jsonl")
    ledger.path.parent.mkdir(parents=True)
    ledger.append("probe", check="health", region="us-east-1", outcome="success", start=1, end=2)
    return ledger.path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty folder: no test file, no conftest, no pytest settings."""
    path = tmp_path / "work"
    path.mkdir()
    return path
