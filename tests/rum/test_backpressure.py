"""Back-pressure: a store that falls behind makes the ingest answer 503 with Retry-After, and
the rows it holds in memory stay under RUM_MAX_PENDING_ROWS however large the burst.

The store is slowed for real: a second SQLite connection holds the write lock, so the ingest's
writer can commit nothing (the store's rate is zero) until it lets go."""

from __future__ import annotations

import asyncio
import re
import sqlite3

import httpx

from tests.rum.conftest import API_KEY, event, start_ingest
from tests.support import free_port

MAX_PENDING_ROWS = 200
BATCH = 20
BURST = 10 * MAX_PENDING_ROWS // BATCH  # batches: ten times what the ingest may hold
ADMITTED = MAX_PENDING_ROWS // BATCH
ANSWER_TIMEOUT = 15.0  # the writer waits up to 10 s for SQLite's lock (BUSY_TIMEOUT_MS)
REFUSALS_DEADLINE = 8.0


def metric(exposition: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", exposition, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


async def burst(base: str, lock: sqlite3.Connection) -> tuple[list[httpx.Response], str]:
    """Send BURST batches at once; release the lock once every refusal is in; return all the
    answers and /metrics as it was while the store was blocked."""
    limits = httpx.Limits(max_connections=BURST)
    headers = {"X-API-Key": API_KEY}
    async with httpx.AsyncClient(
        base_url=base, timeout=ANSWER_TIMEOUT, limits=limits, headers=headers
    ) as client:
        sends = [
            asyncio.create_task(
                client.post(
                    "/v1/events",
                    json={
                        "events": [event("long_task", f"b{n}", duration=i) for i in range(BATCH)]
                    },
                )
            )
            for n in range(BURST)
        ]
        done: set[asyncio.Task[httpx.Response]] = set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REFUSALS_DEADLINE
        while len(done) < BURST - ADMITTED and loop.time() < deadline:
            finished, _ = await asyncio.wait(sends, timeout=0.2)
            done = finished
        blocked_metrics = (await client.get("/metrics")).text
        lock.rollback()  # the store catches up
        return list(await asyncio.gather(*sends)), blocked_metrics


def test_a_burst_past_the_bound_is_refused_with_retry_after_and_nothing_acked_is_lost(
    sqlite_url, tmp_path
):
    port = free_port()
    ingest = start_ingest(
        sqlite_url, port, tmp_path / "ingest.log", RUM_MAX_PENDING_ROWS=str(MAX_PENDING_ROWS)
    )
    path = sqlite_url.removeprefix("sqlite:///")
    try:
        lock = sqlite3.connect(path, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # holds the write lock: no commit can happen
        answers, blocked = asyncio.run(burst(f"http://127.0.0.1:{port}", lock))
        after = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        ingest.terminate()
        ingest.wait(timeout=15)

    statuses = [answer.status_code for answer in answers]
    refused = [answer for answer in answers if answer.status_code == 503]
    assert set(statuses) == {202, 503}, statuses
    assert statuses.count(202) == ADMITTED, "as many batches as fit under the bound are taken"
    assert all(answer.headers.get("Retry-After") == "1" for answer in refused)
    assert "event store is behind" in refused[0].json()["detail"]
    # What the ingest held while the store was blocked never passed the bound.
    assert metric(blocked, "rum_ingest_pending_rows") == MAX_PENDING_ROWS
    assert metric(after, "rum_ingest_pending_rows_high_water") == MAX_PENDING_ROWS
    assert metric(after, "rum_ingest_pending_rows") == 0
    # Every acknowledged batch is stored whole, and nothing refused is.
    reader = sqlite3.connect(path)
    stored = dict(reader.execute("SELECT session_id, COUNT(*) FROM rum_events GROUP BY 1"))
    reader.close()
    acked = {f"b{n}" for n, answer in enumerate(answers) if answer.status_code == 202}
    assert stored == {session: BATCH for session in acked}
