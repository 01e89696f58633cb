"""Alertmanager webhook payloads (version 4): stored one row per alert with the receiver."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime

import pytest

from .conftest import Capture

STARTS = "2024-05-01T10:00:00.123456789Z"  # Alertmanager sends nanoseconds
ENDS = "2024-05-01T10:07:30Z"


def _alert(region: str, status: str, ends: str = "0001-01-01T00:00:00Z") -> dict:
    return {
        "status": status,
        "labels": {
            "alertname": "ServiceDown",
            "region": region,
            "severity": "critical",
            "priority": "P0",
            "job": "demo",
        },
        "annotations": {
            "summary": f"demo is down in {region}",
            "description": "no successful scrape for 1m",
            "runbook_url": "https://runbooks.example/ServiceDown",
        },
        "startsAt": STARTS,
        "endsAt": ends,
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": f"fp-{region}",
    }


def _payload(status: str, receiver: str = "pager", ends: str = "0001-01-01T00:00:00Z") -> dict:
    return {
        "version": "4",
        "groupKey": '{}/{priority="P0"}:{alertname="ServiceDown", region="eu-west-1"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": {"alertname": "ServiceDown", "region": "eu-west-1"},
        "commonLabels": {"alertname": "ServiceDown", "severity": "critical"},
        "commonAnnotations": {"description": "no successful scrape for 1m"},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [_alert("eu-west-1", status, ends), _alert("us-east-1", status, ends)],
    }


def test_firing_then_resolved(capture: Capture) -> None:
    t0 = time.time()
    r = capture.client.post("/alertmanager/webhook", json=_payload("firing"))
    assert r.status_code == 200, r.text
    assert r.json() == {"stored": 2}
    t1 = time.time()
    r = capture.client.post("/alertmanager/webhook", json=_payload("resolved", ends=ENDS))
    assert r.status_code == 200, r.text

    rows = capture.notifications()
    assert [(n["status"], n["labels"]["region"]) for n in rows] == [
        ("firing", "eu-west-1"),
        ("firing", "us-east-1"),
        ("resolved", "eu-west-1"),
        ("resolved", "us-east-1"),
    ]
    first = rows[0]
    assert set(first) == {
        "received_at",
        "receiver",
        "status",
        "alertname",
        "labels",
        "annotations",
        "starts_at",
        "ends_at",
        "fingerprint",
    }
    assert first["receiver"] == "pager"
    assert first["alertname"] == "ServiceDown"
    assert first["annotations"]["summary"] == "demo is down in eu-west-1"
    assert first["fingerprint"] == "fp-eu-west-1"
    starts = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC).timestamp()
    assert first["starts_at"] == pytest.approx(starts, abs=1e-6)
    assert first["ends_at"] is None  # Alertmanager's zero time: not ended
    assert t0 - 1 <= first["received_at"] <= t1 + 1
    assert rows[2]["ends_at"] == pytest.approx(
        datetime(2024, 5, 1, 10, 7, 30, tzinfo=UTC).timestamp()
    )

    assert len(capture.notifications(status="resolved")) == 2
    assert len(capture.notifications(alertname="ServiceDown", status="firing")) == 2
    assert capture.notifications(alertname="HighLatency") == []
    assert capture.notifications(receiver="chat") == []
    assert len(capture.notifications(receiver="pager")) == 4
    assert [n["status"] for n in capture.notifications(since=t1)] == ["resolved", "resolved"]
    assert capture.notifications(since=time.time() + 60) == []
    assert [n["status"] for n in capture.notifications(label="region=us-east-1")] == [
        "firing",
        "resolved",
    ]
    assert capture.get("/api/notifications", status="pending").status_code == 422


def test_receiver_comes_from_the_payload(capture: Capture) -> None:
    for receiver in ("pager", "chat", "default"):
        payload = _payload("firing", receiver=receiver)
        payload["alerts"] = payload["alerts"][:1]
        assert capture.client.post("/alertmanager/webhook", json=payload).status_code == 200
    assert [n["receiver"] for n in capture.notifications()] == ["pager", "chat", "default"]
    assert [n["receiver"] for n in capture.notifications(receiver="chat")] == ["chat"]


def _without(key: str) -> dict:
    p = _payload("firing")
    del p[key]
    return p


def _bad_alert_status() -> dict:
    p = copy.deepcopy(_payload("firing"))
    p["alerts"][1]["status"] = "pending"
    return p


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed JSON"),
        (b'["a"]', "must be a JSON object"),
        (_without("receiver"), "receiver"),
        (_without("alerts"), "alerts"),
        ({**_payload("firing"), "version": "3"}, "unsupported Alertmanager webhook version"),
        (_bad_alert_status(), "alerts.1.status"),
    ],
)
def test_bad_webhook_payload(capture: Capture, body: bytes | dict, reason: str) -> None:
    if isinstance(body, dict):
        r = capture.client.post("/alertmanager/webhook", json=body)
    else:
        r = capture.client.post(
            "/alertmanager/webhook", content=body, headers={"Content-Type": "application/json"}
        )
    assert r.status_code == 400, r.text
    assert reason in r.json()["detail"]
    capture.assert_empty()
