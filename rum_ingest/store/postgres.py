"""PostgreSQL through one asyncpg pool for the whole process."""

from __future__ import annotations

import re

import asyncpg

from signalcheck.rum_ingest.rows import COLUMNS
from signalcheck.rum_ingest.store.group_commit import GroupCommit

_NAMED = re.compile(r"(?<!:):([a-z_]+)")
# A COPY of at most 10 batches, up to 3 at once. One COPY of everything pending made the ingest
# and PostgreSQL take turns, each idle while the other worked (the machine 54% busy); smaller
# overlapping COPYs keep both busy (bench/rum_ingest.py: 59k events/s against 48k).
ROWS_PER_COPY = 200
COPIES_IN_FLIGHT = 3
POOL_SIZE = COPIES_IN_FLIGHT + 2  # and the analytics queries, readiness and migrations
TIMEOUT = 10.0


def numbered(sql: str, params: dict[str, object]) -> tuple[str, list[object]]:
    """`:name` placeholders -> asyncpg's `$1`, with the arguments in that order."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _NAMED.sub(number, sql), [params[name] for name in order]


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset when a connection returns to the pool: the store never changes session
    state (no SET, LISTEN, advisory locks or cursors). asyncpg's default reset is a round trip
    per release, as dear as the COPY it follows (bench/rum_ingest.py)."""


class PostgresDatabase:
    """Batches that arrive while COPYs run share the next one (group commit)."""

    dialect = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self._pool: asyncpg.Pool | None = None
        self._group_commit = GroupCommit(
            self._copy, in_flight=COPIES_IN_FLIGHT, max_rows=ROWS_PER_COPY
        )

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=POOL_SIZE,
            timeout=TIMEOUT,
            command_timeout=TIMEOUT,
            reset=_keep_session,
        )
        self._group_commit.start()

    async def add(self, rows: list[tuple]) -> None:
        """Return once `rows` are committed."""
        await self._group_commit.write(rows)

    async def _copy(self, rows: list[tuple]) -> None:
        # One COPY statement is one transaction (all rows or none), committed when it returns:
        # no BEGIN/COMMIT round trips around it.
        async with self._pool.acquire() as conn:
            await conn.copy_records_to_table("rum_events", records=rows, columns=COLUMNS)

    async def fetch(self, sql: str, params: dict[str, object]) -> list[tuple]:
        query, args = numbered(sql, params)
        async with self._pool.acquire() as conn:
            return [tuple(record) for record in await conn.fetch(query, *args)]

    async def ping(self) -> None:
        await self.fetch("SELECT 1", {})

    async def run_script(self, statements: list[str]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            for statement in statements:
                await conn.execute(statement)

    async def close(self) -> None:
        await self._group_commit.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
