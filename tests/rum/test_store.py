"""The event store on SQLite and on a real PostgreSQL: schema, durable batches, analytics."""

from __future__ import annotations

import asyncio
import random
import time

from signalcheck.rum_ingest.rows import Row
from signalcheck.rum_ingest.store import EventStore, analytics
from signalcheck.rum_ingest.store.schema import MIGRATIONS
from tests.rum.conftest import _fresh_postgres_database, count_rows

NOW = time.time()
DAY = 86_400.0


def row(event_type: str, page: str = "/", *, app="web", session="s-1", **fields) -> Row:
    values = {
        "received_at": NOW,
        "client_time": int(NOW * 1000),
        "app": app,
        "app_version": "1.0",
        "region": "eu-west-1",
        "session_id": session,
        "event_type": event_type,
        "url": f"http://app.example{page}",
        "page": page,
        "name": None,
        "duration_us": None,
        "value": None,
        "status": None,
        "trace_id": None,
        "message": None,
        "attributes": "{}",
        **fields,
    }
    return Row(**values)


async def _with_store(url: str, scenario):
    store = EventStore(url)
    await store.open()
    try:
        return await scenario(store)
    finally:
        await store.close()


def with_store(url: str, scenario):
    return asyncio.run(_with_store(url, scenario))


def test_schema_is_created_at_start_and_migrated_once(database_url):
    latest = MIGRATIONS[-1][0]

    async def versions(store: EventStore) -> list[tuple]:
        return await store.database.fetch("SELECT version FROM rum_schema_version", {})

    assert with_store(database_url, versions) == [(latest,)]
    assert with_store(database_url, versions) == [(latest,)]  # reopening applies nothing twice
    assert count_rows(database_url) == 0


def test_a_batch_is_committed_when_add_returns(database_url):
    async def add(store: EventStore) -> None:
        await store.add([row("page_load", duration_us=1000, session=f"s-{i}") for i in range(20)])

    with_store(database_url, add)
    assert count_rows(database_url) == 20  # read through a new connection


def test_concurrent_batches_all_land(database_url):
    async def add_many(store: EventStore) -> None:
        batches = [[row("long_task", session=f"b{b}-{i}") for i in range(20)] for b in range(50)]
        await asyncio.gather(*(store.add(batch) for batch in batches))

    with_store(database_url, add_many)
    assert count_rows(database_url) == 1000


def known_dataset() -> list[Row]:
    rows = [row("page_load", "/a", duration_us=ms * 1000) for ms in range(100, 2001, 100)]
    rows += [row("page_load", "/b", duration_us=500_000)]
    rows += [row("page_load", "/old", duration_us=9_000_000, received_at=NOW - 2 * DAY)]
    rows += [row("page_load", "/other-app", duration_us=9_000_000, app="other")]
    rows += [row("api_call", name="GET /v1/x", duration_us=us) for us in (10_000, 20_000, 30_000)]
    rows += [row("api_call", name="POST /v1/y", duration_us=300_000, status=500)]
    rows += [row("error", "/a", session=s, message="boom") for s in ("s-1", "s-1", "s-2")]
    rows += [row("error", "/b", session="s-3", message="boom")]
    return rows


def test_the_three_analytics_queries(database_url):
    async def ask(store: EventStore):
        await store.add(known_dataset())
        db, since, until = store.database, NOW - DAY, NOW + 1
        return (
            await analytics.page_loads(db, "web", since, until, 50),
            await analytics.slowest_endpoints(db, "web", NOW - 3600, until, 10),
            await analytics.errors_by_page(db, "web", since, until, 50),
        )

    pages, endpoints, errors = with_store(database_url, ask)
    assert [p.model_dump() for p in pages] == [
        {"page": "/a", "samples": 20, "avg_load_seconds": 1.05, "p95_load_seconds": 1.9},
        {"page": "/b", "samples": 1, "avg_load_seconds": 0.5, "p95_load_seconds": 0.5},
    ]
    assert [(e.endpoint, e.calls, e.avg_duration_seconds) for e in endpoints] == [
        ("POST /v1/y", 1, 0.3),
        ("GET /v1/x", 3, 0.02),
    ]
    assert [e.model_dump() for e in errors] == [
        {"page": "/a", "errors": 3, "affected_sessions": 2},
        {"page": "/b", "errors": 1, "affected_sessions": 1},
    ]


def random_dataset(seed: int) -> list[Row]:
    rng = random.Random(seed)
    pages = [f"/p{n}" for n in range(12)]
    endpoints = [f"GET /v1/e{n}" for n in range(15)]
    rows = []
    for i in range(3000):
        kind = rng.choice(["page_load", "api_call", "error"])
        received = NOW - rng.uniform(0, 2 * DAY)
        duration = round(rng.lognormvariate(6, 1.2) * 1000)  # microseconds
        rows.append(
            row(kind, rng.choice(pages), session=f"s-{rng.randrange(40)}", received_at=received,
                name=rng.choice(endpoints) if kind == "api_call" else None,
                duration_us=None if kind == "error" else duration, client_time=i)
        )  # fmt: skip
    return rows


def test_sqlite_and_postgresql_give_identical_answers(postgres_server, tmp_path):
    dataset = random_dataset(seed=4)

    async def answers(store: EventStore):
        await store.add(dataset)
        db = store.database
        out = []
        for since, until in ((NOW - DAY, NOW + 1), (NOW - 3600, NOW), (NOW - 3 * DAY, NOW + 1)):
            out.append(await analytics.page_loads(db, "web", since, until, 5))
            out.append(await analytics.slowest_endpoints(db, "web", since, until, 10))
            out.append(await analytics.errors_by_page(db, "web", since, until, 50))
        return out

    sqlite = with_store(f"sqlite:///{tmp_path / 'rum.db'}", answers)
    postgres_url = asyncio.run(_fresh_postgres_database(postgres_server, "rum_identical"))
    postgresql = with_store(postgres_url, answers)
    assert all(sqlite), "every query should have an answer for this data"
    assert sqlite == postgresql
