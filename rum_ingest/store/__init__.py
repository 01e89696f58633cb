"""The RUM event store: SQLite (WAL) by default, PostgreSQL when the database URL says so."""

from __future__ import annotations

from pathlib import Path

from rum_ingest.rows import Row
from rum_ingest.store.group_commit import StoreClosed
from rum_ingest.store.postgres import PostgresDatabase
from rum_ingest.store.schema import migrate
from rum_ingest.store.sqlite import SqliteDatabase

__all__ = ["EventStore", "StoreClosed", "check_database_url"]

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://", "postgresql+asyncpg://")


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
    """One database pool (or writer process) for the process; rows are written by group commit."""

    def __init__(self, url: str):
        self.database = _database(url)

    async def open(self) -> None:
        """Connect, create or migrate the schema."""
        await self.database.open()
        await migrate(self.database)

    async def add(self, rows: list[Row]) -> None:
        """Return once every row is committed."""
        await self.database.add(rows)

    async def ping(self) -> None:
        await self.database.ping()

    async def close(self) -> None:
        await self.database.close()
