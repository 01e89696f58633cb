"""Fixtures: the real capture app served by uvicorn on 127.0.0.1 (a free port), per test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from signalcheck.capture.app import create_app
from signalcheck.capture.store import CaptureStore

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


def _serve(store: CaptureStore, **app_kwargs: object) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(store, **app_kwargs), log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("capture app under uvicorn did not start within 10 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaptureStore]:
    s = CaptureStore(tmp_path / "capture.db")
    yield s
    s.close()


@pytest.fixture
def capture(store: CaptureStore) -> Iterator[Capture]:
    for url in _serve(store):
        with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            yield Capture(url=url, store=store, client=client)


@pytest.fixture
def small_capture(store: CaptureStore) -> Iterator[Capture]:
    """The app with a 4 KiB body limit."""
    for url in _serve(store, max_body_bytes=4096):
        with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            yield Capture(url=url, store=store, client=client)
