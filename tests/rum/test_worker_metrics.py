"""With several workers, /metrics reports what every worker counted, whichever worker answers
the scrape. Each worker in turn is stopped (SIGSTOP) so that the other alone takes batches and
scrapes: each worker counts its own half, and each scrape must show both halves."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psutil
import pytest

from tests.rum.conftest import API_KEY, event, start_ingest
from tests.support import free_port

pytestmark = pytest.mark.slow

BATCHES_PER_WORKER = 5
EVENTS_PER_BATCH = 3
TIMEOUT = 10.0


@contextmanager
def paused(process: psutil.Process) -> Iterator[None]:
    """`process` stopped: it accepts no connection until the block ends."""
    process.suspend()
    try:
        yield
    finally:
        process.resume()


def fresh_connection() -> httpx.Client:
    """Every request on a new connection, so that a worker that is running accepts it."""
    return httpx.Client(timeout=TIMEOUT, headers={"Connection": "close"})


def sample(exposition: str, line_start: str) -> float:
    """The sum of the samples whose line starts with `line_start`."""
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith(line_start)
    ]
    assert values, f"no sample starting with {line_start!r} in:\n{exposition}"
    return sum(values)


def test_every_scrape_reports_every_workers_batches(sqlite_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ingest = start_ingest(sqlite_url, port, tmp_path / "ingest.log", RUM_WORKERS="2")
    workers = psutil.Process(ingest.pid).children()
    assert len(workers) == 2
    scrapes: list[str] = []
    try:
        for stopped in workers:
            with paused(stopped), fresh_connection() as client:
                for _ in range(BATCHES_PER_WORKER):
                    body = {
                        "events": [event("page_load", metrics={"total": 800.0})] * EVENTS_PER_BATCH
                    }
                    answer = client.post(
                        f"{base}/v1/events", json=body, headers={"X-API-Key": API_KEY}
                    )
                    assert answer.status_code == 202, answer.text
        for stopped in workers:
            with paused(stopped), fresh_connection() as client:
                scrapes.append(client.get(f"{base}/metrics").text)
    finally:
        os.kill(ingest.pid, signal.SIGTERM)
        ingest.wait(timeout=30)

    batches = 2 * BATCHES_PER_WORKER
    for exposition in scrapes:
        assert sample(exposition, 'rum_ingest_batches_total{status="202"}') == batches
        assert sample(exposition, "rum_events_total{") == batches * EVENTS_PER_BATCH
        assert sample(exposition, "rum_page_load_seconds_count{") == batches * EVENTS_PER_BATCH
        assert sample(exposition, "rum_ingest_pending_rows ") == 0
    assert ingest.returncode == 0
    assert not re.search(r"Traceback", (tmp_path / "ingest.log").read_text())
