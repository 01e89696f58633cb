"""Background traffic sends what the config's `traffic:` says, to real loopback services: the
demo's token request to demo regions only, the selected http checks' requests to the others,
nothing when switched off; the ledger's `traffic` entry counts what the services received."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from signalcheck.config import Config, load_config
from signalcheck.ledger import Ledger
from signalcheck.probes.traffic import BackgroundTraffic
from signalcheck.stack.ports import free_port
from tests.recording_service import recorded, recording_service
from tests.support import stop

KEY_ENV = "TRAFFIC_TEST_KEY"
SECONDS = 1.5


@pytest.fixture
def services(tmp_path) -> Iterator[dict[str, tuple[int, Path]]]:
    """Two recording services, `demo` and `own`: region name -> (port, request log)."""
    ports = {"demo": free_port(), "own": free_port()}
    logs = {name: tmp_path / f"{name}.jsonl" for name in ports}
    started = []
    try:
        for name, port in ports.items():
            started.append(recording_service(port, logs[name]))
        yield {name: (ports[name], logs[name]) for name in ports}
    finally:
        for process in started:
            stop(process)


def config(directory: Path, services, **sections) -> Config:
    raw = {
        "regions": {
            "demo": {"base_url": f"http://127.0.0.1:{services['demo'][0]}", "demo": True},
            "own": {"base_url": f"http://127.0.0.1:{services['own'][0]}"},
        },
        "checks": [
            {
                "name": "items",
                "type": "http",
                "method": "POST",
                "path": "/v2/items?key=${" + KEY_ENV + "}",
                "headers": {"X-Key": "${" + KEY_ENV + "}"},
                "json": {"sku": "${" + KEY_ENV + "}"},
            },
            {"name": "home", "type": "http", "path": "/"},
            {"name": "flow", "type": "workflow", "steps": [{"name": "a", "path": "/flow"}]},
        ],
        **sections,
    }
    path = directory / "signalcheck.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, environ={})


def run_traffic(cfg: Config, ledger: Ledger) -> dict:
    with BackgroundTraffic(cfg, ledger=ledger):
        time.sleep(SECONDS)
    [entry] = ledger.entries("traffic")
    return entry.model_dump()


def test_demo_regions_get_the_token_request_and_the_others_only_their_checks(
    tmp_path, services, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, "k-123")
    cfg = config(tmp_path, services, traffic={"checks": ["items"], "per_second": 10})
    entry = run_traffic(cfg, Ledger(tmp_path / "ledger.jsonl"))

    own = recorded(services["own"][1])
    assert own, "the non-demo region got no background traffic"
    assert {(r["method"], r["path"]) for r in own} == {("POST", "/v2/items?key=k-123")}
    assert all(r["headers"]["X-Key"] == "k-123" and r["body"] == '{"sku": "k-123"}' for r in own)
    assert not any("demo-secret" in str(r) or "/auth/token" in r["path"] for r in own)

    demo = recorded(services["demo"][1])
    assert demo and {(r["method"], r["path"]) for r in demo} == {("POST", "/auth/token")}
    assert all('"client_secret": "demo-secret"' in r["body"] for r in demo)

    regions = entry["regions"]
    assert regions["own"]["sends"] == "checks" and regions["own"]["checks"] == ["items"]
    assert regions["own"]["requests"] == {"items": {"2xx": len(own)}}
    assert regions["demo"]["sends"] == "demo-token"
    assert regions["demo"]["requests"] == {"POST /auth/token": {"2xx": len(demo)}}
    rounds = len(demo)
    assert 0.5 * SECONDS * 10 <= rounds <= SECONDS * 10 + 2, f"{rounds} rounds in {SECONDS}s"
    assert "demo-secret" not in (tmp_path / "ledger.jsonl").read_text()


def test_by_default_every_http_check_is_sent_and_no_workflow(tmp_path, services, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "k")
    cfg = config(tmp_path, services)
    entry = run_traffic(cfg, Ledger(tmp_path / "ledger.jsonl"))
    paths = {r["path"] for r in recorded(services["own"][1])}
    assert paths == {"/v2/items?key=k", "/"}
    assert entry["regions"]["own"]["checks"] == ["home", "items"]


def test_disabled_traffic_sends_nothing_and_says_so(tmp_path, services):
    cfg = config(tmp_path, services, traffic={"enabled": False})
    entry = run_traffic(cfg, Ledger(tmp_path / "ledger.jsonl"))
    assert recorded(services["own"][1]) == [] and recorded(services["demo"][1]) == []
    assert entry["enabled"] is False
    for region in entry["regions"].values():
        assert region["sends"] == "none" and region["why"] == "traffic.enabled is false"


def test_a_region_with_no_http_check_to_send_gets_none(tmp_path, services):
    cfg = config(tmp_path, services)
    cfg = cfg.model_copy(update={"checks": [c for c in cfg.checks if c.type != "http"]})
    entry = run_traffic(cfg, Ledger(tmp_path / "ledger.jsonl"))
    assert recorded(services["own"][1]) == []
    assert recorded(services["demo"][1]), "the demo region still gets its token requests"
    own = entry["regions"]["own"]
    assert own == {"sends": "none", "checks": [], "why": "no http check in the config's checks",
                   "requests": {}}  # fmt: skip
