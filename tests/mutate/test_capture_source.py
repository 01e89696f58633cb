"""The capture receiver keeps each pipeline's notifications apart: the real Alertmanager posts
to /alertmanager/webhook (source ''), a shadow to /alertmanager/webhook/<mutant>; the API and
the CaptureClient read one source only (the real pipeline's unless the config names one)."""

from __future__ import annotations

import sqlite3

from signalcheck.backends.capture import CaptureClient
from signalcheck.capture.store import CaptureStore
from signalcheck.config import CaptureBackend, load_config
from tests.capture.conftest import Capture, capture, store  # noqa: F401 - the real app, served
from tests.capture.test_webhook import _payload
from tests.support import REPO


def test_webhook_path_segment_is_the_source_and_reads_are_per_source(capture: Capture) -> None:  # noqa: F811
    assert capture.client.post("/alertmanager/webhook", json=_payload("firing")).status_code == 200
    shadow = capture.client.post(
        "/alertmanager/webhook/HighErrorRate.threshold", json=_payload("firing", receiver="chat")
    )
    assert shadow.status_code == 200, shadow.text

    assert {n["receiver"] for n in capture.notifications()} == {"pager"}
    assert {n["receiver"] for n in capture.notifications(source="HighErrorRate.threshold")} == {
        "chat"
    }
    assert capture.notifications(source="other") == []
    stored = capture.store.find_notifications(source="HighErrorRate.threshold")
    assert {n.source for n in stored} == {"HighErrorRate.threshold"}


def test_a_source_that_is_not_a_bounded_name_is_refused(capture: Capture) -> None:  # noqa: F811
    too_long = "x" * 101
    r = capture.client.post(f"/alertmanager/webhook/{too_long}", json=_payload("firing"))
    assert r.status_code == 422
    assert capture.get("/api/notifications", source="../x").status_code == 422
    assert capture.store.counts()["notifications"] == 0


def test_capture_client_reads_its_configured_source(capture: Capture) -> None:  # noqa: F811
    capture.client.post("/alertmanager/webhook", json=_payload("firing"))
    capture.client.post(
        "/alertmanager/webhook/route.1-pager.matcher", json=_payload("firing", "default")
    )
    with CaptureClient(CaptureBackend(url=capture.url)) as real:
        assert {n["receiver"] for n in real.notifications()} == {"pager"}
    with CaptureClient(CaptureBackend(url=capture.url, source="route.1-pager.matcher")) as shadow:
        assert {n["receiver"] for n in shadow.notifications()} == {"default"}
        assert "source=route.1-pager.matcher" in shadow.last_request


def test_default_local_capture_backend_carries_a_source() -> None:
    config = load_config(REPO / "signalcheck.yaml", environ={})
    assert isinstance(config.backends.capture, CaptureBackend)
    assert config.backends.capture.source == ""


def test_a_store_written_before_sources_gets_the_column(tmp_path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE notifications (id INTEGER PRIMARY KEY, received_at REAL NOT NULL, "
            "receiver TEXT NOT NULL, status TEXT NOT NULL, alertname TEXT NOT NULL, labels TEXT "
            "NOT NULL, annotations TEXT NOT NULL, starts_at REAL, ends_at REAL, fingerprint TEXT "
            "NOT NULL, group_key TEXT NOT NULL DEFAULT '', generator_url TEXT NOT NULL DEFAULT '')"
        )
        conn.execute(
            "INSERT INTO notifications (received_at, receiver, status, alertname, labels, "
            "annotations, fingerprint) VALUES (1, 'pager', 'firing', 'A', '{}', '{}', 'f')"
        )
    with CaptureStore(path) as upgraded:
        (old,) = upgraded.find_notifications()
        assert (old.receiver, old.source) == ("pager", "")
        assert upgraded.find_notifications(source="shadow") == []
