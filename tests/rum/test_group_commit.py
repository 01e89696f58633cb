"""Group commit (the PostgreSQL store's): bounded groups, bounded concurrency, and every batch
answered by the fate of its own group."""

from __future__ import annotations

import asyncio

import pytest

from signalcheck.rum_ingest.store.group_commit import GroupCommit, StoreClosed


def test_groups_stay_within_their_bounds_and_each_write_gets_its_groups_fate():
    groups: list[list[tuple]] = []
    running = peak = 0

    async def insert(rows: list[tuple]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        groups.append(rows)
        if ("poison",) in rows:
            raise RuntimeError("rolled back")

    async def scenario() -> list[object]:
        commit = GroupCommit(insert, in_flight=3, max_rows=10)
        commit.start()
        writes = [commit.write([(f"b{b}", i) for i in range(4)]) for b in range(30)]
        writes.append(commit.write([("poison",)]))
        outcomes = await asyncio.gather(*writes, return_exceptions=True)
        await commit.close()
        return outcomes

    outcomes = asyncio.run(scenario())
    assert 1 < peak <= 3
    assert all(len(rows) <= 10 for rows in groups)
    assert sorted(row for rows in groups for row in rows if row != ("poison",)) == sorted(
        (f"b{b}", i) for b in range(30) for i in range(4)
    )
    poisoned = next(rows for rows in groups if ("poison",) in rows)
    failed = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(failed) == 1 + sum(1 for row in poisoned if row[1:] == (0,))
    assert str(failed[-1]) == "rolled back"


def test_a_closed_group_commit_refuses_writes():
    async def scenario() -> None:
        commit = GroupCommit(lambda rows: asyncio.sleep(0))
        commit.start()
        await commit.close()
        with pytest.raises(StoreClosed):
            await commit.write([("late",)])

    asyncio.run(scenario())
