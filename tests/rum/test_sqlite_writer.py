"""The SQLite writer process: every batch is answered only after its commit, a failed commit
fails exactly its batches, and a writer that dies is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3

import pytest

from signalcheck.rum_ingest.store import EventStore, StoreClosed
from signalcheck.rum_ingest.store import sqlite as sqlite_store
from signalcheck.rum_ingest.store.sqlite import WriterFailed
from signalcheck.rum_ingest.store.sqlite_writer import ROWS_PER_STATEMENT
from tests.rum.test_store import row


def stored(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [s for (s,) in conn.execute("SELECT session_id FROM rum_events ORDER BY id")]


def run(path, scenario):
    async def main():
        store = EventStore(f"sqlite:///{path}")
        await store.open()
        try:
            return await scenario(store)
        finally:
            await store.close()

    return asyncio.run(main())


def test_large_and_concurrent_batches_are_all_committed_in_order(tmp_path):
    path = tmp_path / "rum.db"
    big = 2 * ROWS_PER_STATEMENT + 7  # three INSERT statements in one transaction

    async def scenario(store: EventStore) -> None:
        await store.add([row("long_task", session=f"big-{i}") for i in range(big)])
        await asyncio.gather(
            *(
                store.add([row("error", session=f"b{b:02d}-{i}") for i in range(20)])
                for b in range(50)
            )
        )

    run(path, scenario)
    sessions = stored(path)
    assert sessions[:big] == [f"big-{i}" for i in range(big)]
    assert sessions[big:] == [f"b{b:02d}-{i}" for b in range(50) for i in range(20)]


def test_a_commit_that_fails_fails_its_batch_and_the_next_one_commits(tmp_path):
    path = tmp_path / "rum.db"

    async def scenario(store: EventStore) -> None:
        await store.database.run_script(["ALTER TABLE rum_events RENAME TO parked"])
        with pytest.raises(WriterFailed, match="no such table: rum_events"):
            await store.add([row("error", session="lost")])
        await store.database.run_script(["ALTER TABLE parked RENAME TO rum_events"])
        await store.add([row("error", session="kept")])

    run(path, scenario)
    assert stored(path) == ["kept"]


def test_a_killed_writer_fails_what_it_held_and_is_replaced(tmp_path):
    path = tmp_path / "rum.db"

    async def scenario(store: EventStore) -> tuple[int, int]:
        first = store.database._writer.pid
        os.kill(first, signal.SIGSTOP)  # it takes the batch but cannot commit it
        held = asyncio.ensure_future(store.add([row("error", session="held")]))
        await asyncio.sleep(0.2)
        assert not held.done()
        os.kill(first, signal.SIGKILL)
        with pytest.raises(WriterFailed, match="stopped before committing"):
            await held
        await store.add([row("error", session="after")])
        return first, store.database._writer.pid

    first, second = run(path, scenario)
    assert second != first
    assert stored(path) == ["after"]


def test_a_closed_store_refuses_writes(tmp_path):
    async def main() -> None:
        store = EventStore(f"sqlite:///{tmp_path / 'rum.db'}")
        await store.open()
        writer = store.database._writer
        await store.close()
        assert writer.returncode == 0  # stopped by end of input, not killed
        with pytest.raises(StoreClosed):
            await store.add([row("error")])

    asyncio.run(main())


def test_a_stuck_writer_times_out_and_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_store, "COMMIT_TIMEOUT", 0.3)
    monkeypatch.setattr(sqlite_store, "WATCH_INTERVAL", 0.05)
    path = tmp_path / "rum.db"

    async def scenario(store: EventStore) -> None:
        os.kill(store.database._writer.pid, signal.SIGSTOP)  # alive, but commits nothing
        with pytest.raises(WriterFailed, match=r"did not commit in 0\.3 s"):
            await asyncio.wait_for(store.add([row("error", session="stuck")]), 5)
        # The replacement writer is a new Python process: on a loaded machine its start alone
        # can take longer than the 0.3 s that caught the stuck one.
        monkeypatch.setattr(sqlite_store, "COMMIT_TIMEOUT", 30.0)
        await store.add([row("error", session="after")])

    run(path, scenario)
    assert stored(path) == ["after"]
