"""The ingest's fast paths give what the plain ones gave: batched histogram observations,
cached scrubbing, multi-row SQLite inserts and checkpoints off the committing connection."""

from __future__ import annotations

import asyncio
import sqlite3

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from rum_ingest.metrics import observe_all
from rum_ingest.privacy import CACHED_TEXT_CHARS, scrub_text
from rum_ingest.store import EventStore
from rum_ingest.store import sqlite as sqlite_store
from tests.rum.test_store import row

BUCKETS = (0.1, 0.5, 1.0, 2.5)
AMOUNTS = [0.0, 0.1, 0.1000001, 0.3, 0.5, 0.7, 1.0, 2.5, 2.6, 1e9, 0.05, 1 / 3]


def exposition(observe) -> str:
    registry = CollectorRegistry()
    histogram = Histogram("h_seconds", "h", ["page"], buckets=BUCKETS, registry=registry)
    observe(histogram.labels("/"))
    return "\n".join(
        line for line in generate_latest(registry).decode().splitlines() if "_created" not in line
    )


def test_batched_histogram_observations_equal_one_by_one():
    def one_by_one(child) -> None:
        for amount in AMOUNTS:
            child.observe(amount)

    assert exposition(lambda child: observe_all(child, AMOUNTS)) == exposition(one_by_one)


def test_scrubbing_gives_the_same_text_cached_or_not():
    secret = "failed for joe@example.com at https://a.example/x?token=abc Bearer abcdefgh12345678"
    short = scrub_text(secret)
    assert short == scrub_text(secret)  # the cached answer
    assert "joe@example.com" not in short and "token=abc" not in short
    long = secret + " " * CACHED_TEXT_CHARS  # beyond the cache: scrubbed every time
    assert scrub_text(long) == short + " " * CACHED_TEXT_CHARS


def test_sqlite_chunks_large_groups_and_checkpoints_off_the_writer(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY", 3)
    path = tmp_path / "rum.db"

    async def scenario() -> None:
        store = EventStore(f"sqlite:///{path}")
        await store.open()
        try:
            size = 2 * sqlite_store.ROWS_PER_STATEMENT + 7  # three INSERT statements
            await store.add([row("long_task", session=f"big-{i}") for i in range(size)])
            for batch in range(10):
                await store.add([row("error", session=f"s-{batch}-{i}") for i in range(20)])
            assert await store.database.fetch("SELECT COUNT(*) FROM rum_events", {}) == [
                (size + 200,)
            ]
            await asyncio.sleep(0.2)  # let a checkpoint run
            frames = sqlite3.connect(path).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            assert frames[0] == 0  # not busy: nothing holds the checkpoint lock
        finally:
            await store.close()

    asyncio.run(scenario())
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM rum_events").fetchone() == (
            2 * sqlite_store.ROWS_PER_STATEMENT + 7 + 200,
        )
