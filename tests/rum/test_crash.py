"""SIGKILL of the ingest in the middle of a load run loses no event whose batch got a 2xx."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import httpx
import psutil
import pytest

from signalcheck.rum_ingest.store import EventStore
from signalcheck.waiting import wait_for
from tests.rum.conftest import API_KEY, event, start_ingest
from tests.support import alive, free_port

pytestmark = pytest.mark.slow

SENDERS = 4
ACKNOWLEDGED_BEFORE_KILL = 20
"""Batches answered 2xx before the kill: the kill comes under load, whatever the start-up took."""
LOAD_DEADLINE = 30.0


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


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_during_load_loses_no_acknowledged_batch(database_url, tmp_path, workers):
    """Every process of the ingest (supervisor, workers, SQLite writers) is SIGKILLed at once
    under load: every batch answered 2xx before is stored whole."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ingest = start_ingest(database_url, port, tmp_path / "ingest.log", RUM_WORKERS=str(workers))
    processes = [psutil.Process(ingest.pid), *psutil.Process(ingest.pid).children(recursive=True)]
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
    try:
        wait_for(
            lambda: len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL,
            timeout=LOAD_DEADLINE / 2,
            what=f"{ACKNOWLEDGED_BEFORE_KILL} batches acknowledged before the kill",
        )
    finally:
        for process in processes:
            os.kill(process.pid, signal.SIGKILL)
        ingest.wait(timeout=10)
        stop.set()
    for thread in senders:
        thread.join(timeout=10)
    wait_for(
        lambda: not any(map(alive, processes)),
        timeout=10,
        what="every process of the killed ingest to be gone",
    )

    writers = workers if database_url.startswith("sqlite") else 0
    supervisor = 1 if workers > 1 else 0
    assert len(processes) == supervisor + workers + writers, "every process was killed"
    assert ingest.returncode == -signal.SIGKILL
    stored = sessions_stored(database_url)
    lost = [batch for batch in acknowledged if stored.get(batch) != 20]
    assert not lost, f"{len(lost)} acknowledged batches lost or partial, e.g. {lost[:3]}"


def test_workers_die_with_their_supervisor(sqlite_url, tmp_path):
    """A SIGKILLed supervisor leaves no worker serving on its own: each dies with it."""
    ingest = start_ingest(sqlite_url, free_port(), tmp_path / "ingest.log", RUM_WORKERS="2")
    workers = psutil.Process(ingest.pid).children()
    assert len(workers) == 2
    ingest.kill()
    ingest.wait(timeout=10)
    wait_for(
        lambda: not any(map(alive, workers)),
        timeout=10,
        what="both workers to exit after their supervisor was killed",
    )


@pytest.mark.parametrize(
    ("how", "status"),
    [("the supervisor is sent SIGTERM", 0), ("a worker is SIGKILLed", 1)],
)
def test_the_supervisors_status_says_whether_it_was_told_to_stop(sqlite_url, tmp_path, how, status):
    """A stop asked for ends with 0, although uvicorn ends each worker by the signal it was
    sent; a worker that dies on its own stops the rest and the service ends with 1."""
    ingest = start_ingest(sqlite_url, free_port(), tmp_path / "ingest.log", RUM_WORKERS="2")
    workers = psutil.Process(ingest.pid).children()
    if how == "a worker is SIGKILLed":
        workers[0].kill()
    else:
        ingest.terminate()
    assert ingest.wait(timeout=30) == status
    assert not any(map(alive, workers))
