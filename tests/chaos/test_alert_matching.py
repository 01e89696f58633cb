"""Which alerts count as firing for the expected labels, and which are strays (another region,
another receiver) — the judgement behind alert_fires' "for the faulted region only"."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import yaml

from signalcheck.chaos import faultlog
from signalcheck.chaos.context import RUN_DIR_ENV
from signalcheck.chaos.probes import _firing, _notified, _strays, alert_fires
from signalcheck.errors import AlertAlreadyFiring
from signalcheck.ledger import LEDGER_FILE, Ledger, read_entries
from tests.validation.documented_api import canned_server


class FakePrometheus:
    def __init__(self, alerts):
        self._alerts = alerts

    def alerts(self):
        return self._alerts


class FakeCapture:
    def __init__(self, sent):
        self.sent = sent

    def notifications(self, alertname=None, receiver=None, status=None, since=None):
        return [
            n
            for n in self.sent
            if n["alertname"] == alertname
            and receiver in (None, n["receiver"])
            and status in (None, n["status"])
            and n["received_at"] >= since
        ]


def iso(at: float) -> str:
    """An `activeAt` as Prometheus writes it (RFC 3339, nanoseconds, UTC)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def alert(name, region, state="firing", active=95.0):
    return {"labels": {"alertname": name, "region": region}, "state": state,
            "activeAt": iso(active)}  # fmt: skip


def sent(name, region, receiver, status="firing", at=100.0, starts=95.0):
    labels = {"alertname": name, "region": region}
    return {"alertname": name, "labels": labels, "receiver": receiver, "status": status,
            "received_at": at, "starts_at": starts}  # fmt: skip


def test_firing_matches_name_labels_and_state() -> None:
    prometheus = FakePrometheus(
        [alert("X", "eu"), alert("X", "us", "pending"), alert("Y", "eu"), alert("X", "ap")]
    )
    assert _firing(prometheus, "X", {"region": "eu"}) == [alert("X", "eu")]
    assert _firing(prometheus, "X", {"region": "us"}) == []


def test_notified_needs_the_receiver_the_status_and_a_time_after_the_fault() -> None:
    capture = FakeCapture([sent("X", "eu", "chat"), sent("X", "eu", "pager", at=50.0)])
    assert _notified(capture, "X", {"region": "eu"}, "pager", "firing", since=90.0) == []
    assert len(_notified(capture, "X", {"region": "eu"}, "chat", "firing", since=90.0)) == 1


def test_no_strays_when_only_the_faulted_region_fires_at_its_receiver() -> None:
    prometheus = FakePrometheus([alert("X", "eu"), alert("X", "us", "pending")])
    capture = FakeCapture([sent("X", "eu", "pager"), sent("X", "us", "pager", at=10.0)])
    assert _strays(prometheus, capture, "X", "eu", "pager", since=90.0) == []


def test_other_regions_and_other_receivers_are_strays() -> None:
    prometheus = FakePrometheus([alert("X", "eu"), alert("X", "ap")])
    capture = FakeCapture([sent("X", "eu", "pager"), sent("X", "eu", "chat")])
    assert _strays(prometheus, capture, "X", "eu", "pager", since=90.0) == [
        "firing in Prometheus for region 'ap'",
        "notified to 'chat' for region 'eu'",
    ]


def test_another_regions_alert_that_began_before_the_fault_is_not_its_stray() -> None:
    """Regions faulted at once (a game day): an alert another region's own, earlier fault set
    off, and its re-notifications, are not this fault's strays; one that began after it is."""
    prometheus = FakePrometheus([alert("X", "eu"), alert("X", "us", active=40.0)])
    capture = FakeCapture([sent("X", "eu", "pager"), sent("X", "us", "pager", starts=40.0)])
    assert _strays(prometheus, capture, "X", "eu", "pager", since=90.0) == []
    prometheus = FakePrometheus([alert("X", "eu"), alert("X", "us", active=92.0)])
    assert _strays(prometheus, capture, "X", "eu", "pager", since=90.0) == [
        "firing in Prometheus for region 'us'"
    ]


def test_an_alert_already_firing_before_the_fault_is_no_detection(tmp_path, monkeypatch) -> None:
    """ServiceDown firing for the region since a minute before the kill: alert_fires fails at
    once saying so (it used to return a time to detect below the floor)."""
    fault_start = time.time() - 5
    firing = [alert("ServiceDown", "eu-west-1", active=fault_start - 60)]
    rule = {"name": "ServiceDown", "type": "alerting", "duration": 30, "query": "up == 0"}
    routes = {
        "/api/v1/status/buildinfo": (200, {"status": "success", "data": {}}),
        "/api/v1/alerts": (200, {"status": "success", "data": {"alerts": firing}}),
        "/api/v1/rules": (200, {"status": "success",
                                "data": {"groups": [{"name": "g", "rules": [rule]}]}}),
        "/health": (200, {"status": "ok"}),
        "/api/notifications": (200, {"notifications": []}),
    }  # fmt: skip
    with canned_server(routes) as server:
        path = tmp_path / "signalcheck.yaml"
        backends = {"prometheus": {"url": server.url}, "capture": {"url": server.url}}
        regions = {"eu-west-1": {"base_url": "http://127.0.0.1:1"}}
        path.write_text(yaml.safe_dump({"regions": regions, "backends": backends}))
        monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path))
        ledger = Ledger(tmp_path / LEDGER_FILE)
        faultlog.open_fault(ledger, "kill", "eu-west-1", {}, start=fault_start)
        began = time.monotonic()
        with pytest.raises(AlertAlreadyFiring, match="was already firing"):
            alert_fires("ServiceDown", {"region": "eu-west-1"}, within=30,
                        configuration={"signalcheck_config": str(path)})  # fmt: skip
    assert time.monotonic() - began < 10, "it fails at once, without waiting out the budget"
    (detection,) = [e for e in read_entries(tmp_path / LEDGER_FILE) if e.kind == "detection"]
    assert detection.field("time_to_detect") is None
    assert detection.field("already_firing_since") == pytest.approx(fault_start - 60, abs=0.01)
