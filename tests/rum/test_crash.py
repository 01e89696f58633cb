"""SIGKILL of the ingest in the middle of a load run loses no event whose batch got a 2xx."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from rum_ingest.store import EventStore
from signalcheck.waiting import wait_for
from tests.rum.conftest import API_KEY, event
from tests.support import REPO, free_port

pytestmark = pytest.mark.slow

SENDERS = 4
LOAD_BEFORE_KILL = 1.5  # seconds
LOAD_DEADLINE = 30.0


def start_ingest(database_url: str, port: int, log) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RUM_API_KEYS": f"web={API_KEY}",
        "RUM_RATE_LIMIT": "100000",
        "RUM_RATE_BURST": "100000",
    }
    argv = [sys.executable, "-m", "signalcheck", "rum", "serve", "--port", str(port)]
    return subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def is_ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def sessions_stored(database_url: str) -> dict[str, int]:
    async def query() -> dict[str, int]:
        store = EventStore(database_url)
        await store.open()
        try:
            sql = "SELECT session_id, COUNT(*) FROM rum_events GROUP BY session_id"
            return {session: int(n) for session, n in await store.database.fetch(sql, {})}
        finally:
            await store.close()

    return asyncio.run(query())


def test_sigkill_during_load_loses_no_acknowledged_batch(database_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "ingest.log", "wb") as log:
        ingest = start_ingest(database_url, port, log)
    try:
        wait_for(
            lambda: is_ready(f"{base}/health/ready"),
            timeout=20,
            what="the ingest to be ready",
        )
    except Exception:
        ingest.kill()
        raise AssertionError((tmp_path / "ingest.log").read_text()) from None

    acknowledged: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def send(sender: int) -> None:
        deadline = time.monotonic() + LOAD_DEADLINE
        with httpx.Client(base_url=base, timeout=2.0, headers={"X-API-Key": API_KEY}) as client:
            n = 0
            while not stop.is_set() and time.monotonic() < deadline:
                batch_id = f"sender{sender}-batch{n}"
                n += 1
                body = {
                    "events": [event("long_task", session=batch_id, duration=i) for i in range(20)]
                }
                try:
                    response = client.post("/v1/events", json=body)
                except httpx.HTTPError as exc:
                    failures.append(type(exc).__name__)
                    if ingest.poll() is not None:
                        return
                    continue
                if response.is_success:
                    acknowledged.append(batch_id)

    senders = [threading.Thread(target=send, args=(i,)) for i in range(SENDERS)]
    for thread in senders:
        thread.start()
    time.sleep(LOAD_BEFORE_KILL)
    os.kill(ingest.pid, signal.SIGKILL)
    ingest.wait(timeout=10)
    stop.set()
    for thread in senders:
        thread.join(timeout=10)

    assert ingest.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 20, "the load run should have had batches acknowledged"
    stored = sessions_stored(database_url)
    lost = [batch for batch in acknowledged if stored.get(batch) != 20]
    assert not lost, f"{len(lost)} acknowledged batches lost or partial, e.g. {lost[:3]}"
