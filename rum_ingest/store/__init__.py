"""The RUM event store: SQLite (WAL) by default, PostgreSQL when the database URL says so."""

from __future__ import annotations

from pathlib import Path

from signalcheck.errors import SignalcheckError
from signalcheck.rum_ingest.rows import Row
from signalcheck.rum_ingest.store.group_commit import StoreClosed
from signalcheck.rum_ingest.store.postgres import PostgresDatabase
from signalcheck.rum_ingest.store.schema import migrate
from signalcheck.rum_ingest.store.sqlite import SqliteDatabase

__all__ = ["EventStore", "StoreBusy", "StoreClosed", "check_database_url"]

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://", "postgresql+asyncpg://")


DEFAULT_MAX_PENDING_ROWS = 20_000


class StoreBusy(SignalcheckError, RuntimeError):
    """The store is behind: taking the batch would hold more rows than allowed in memory."""


def check_database_url(url: str) -> str:
    """The URL if this store can open it; a ValueError naming the accepted forms otherwise."""
    if url.startswith(SQLITE_PREFIX) and len(url) > len(SQLITE_PREFIX):
        return url
    if url.startswith(POSTGRES_PREFIXES):
        return url
    raise ValueError(
        "DATABASE_URL must be sqlite:///PATH (relative) or sqlite:////PATH (absolute) "
        "or postgresql://USER:PASSWORD@HOST:PORT/DB"
    )


def _database(url: str) -> SqliteDatabase | PostgresDatabase:
    check_database_url(url)
    if url.startswith(SQLITE_PREFIX):
        return SqliteDatabase(Path(url.removeprefix(SQLITE_PREFIX)))
    return PostgresDatabase(url.replace("postgresql+asyncpg://", "postgresql://", 1))


class EventStore:
    """One database pool (or writer process) for the process; rows are written by group commit.

    At most `max_pending_rows` rows wait for their commit at once: when the store falls behind,
    `add` refuses a batch (StoreBusy) rather than queueing without bound."""

    def __init__(self, url: str, max_pending_rows: int = DEFAULT_MAX_PENDING_ROWS):
        self.database = _database(url)
        self.max_pending_rows = max_pending_rows
        self.pending_rows = 0
        self.pending_rows_high_water = 0

    async def open(self) -> None:
        """Connect, create or migrate the schema."""
        await self.database.open()
        await migrate(self.database)

    async def add(self, rows: list[Row]) -> None:
        """Return once every row is committed; StoreBusy at once if too many rows wait."""
        if self.pending_rows and self.pending_rows + len(rows) > self.max_pending_rows:
            raise StoreBusy(f"{self.pending_rows} rows are waiting for their commit")
        self.pending_rows += len(rows)
        self.pending_rows_high_water = max(self.pending_rows_high_water, self.pending_rows)
        try:
            await self.database.add(rows)
        finally:
            self.pending_rows -= len(rows)

    async def ping(self) -> None:
        await self.database.ping()

    async def close(self) -> None:
        await self.database.close()
