"""Fixtures: the real capture app served by uvicorn on 127.0.0.1 (a free port), per test
(tests.support.capture_receiver)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from signalcheck.capture.store import CaptureStore
from tests.support import capture_receiver

TIMEOUT = 5.0


@dataclass
class Capture:
    url: str
    store: CaptureStore
    client: httpx.Client

    def get(self, path: str, **params: object) -> httpx.Response:
        return self.client.get(path, params=params)

    def spans(self, **params: object) -> list[dict]:
        r = self.get("/api/spans", **params)
        assert r.status_code == 200, r.text
        return r.json()["spans"]

    def logs(self, **params: object) -> list[dict]:
        r = self.get("/api/logs", **params)
        assert r.status_code == 200, r.text
        return r.json()["logs"]

    def notifications(self, **params: object) -> list[dict]:
        r = self.get("/api/notifications", **params)
        assert r.status_code == 200, r.text
        return r.json()["notifications"]

    def metrics(self, **params: object) -> list[dict]:
        r = self.get("/api/metrics", **params)
        assert r.status_code == 200, r.text
        return r.json()["metrics"]

    def assert_empty(self) -> None:
        assert self.store.counts() == {
            "spans": 0,
            "logs": 0,
            "notifications": 0,
            "metric_points": 0,
        }
        assert self.spans() == []
        assert self.logs() == []
        assert self.notifications() == []
        assert self.metrics() == []


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaptureStore]:
    s = CaptureStore(tmp_path / "capture.db")
    yield s
    s.close()


@pytest.fixture
def capture(store: CaptureStore) -> Iterator[Capture]:
    with capture_receiver(store) as url, httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        yield Capture(url=url, store=store, client=client)


@pytest.fixture
def small_capture(store: CaptureStore) -> Iterator[Capture]:
    """The app with a 4 KiB body limit."""
    with (
        capture_receiver(store, max_body_bytes=4096) as url,
        httpx.Client(base_url=url, timeout=TIMEOUT) as client,
    ):
        yield Capture(url=url, store=store, client=client)
