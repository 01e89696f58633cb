"""The `rum_events` table and its migrations, applied in order at start-up."""

from __future__ import annotations

import time
from typing import Protocol

ID_COLUMN = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgresql": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
}

# (version, statements); `{id}` is the dialect's auto-incrementing key. Append, never edit.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE rum_events (
                id {id},
                received_at DOUBLE PRECISION NOT NULL,
                client_time BIGINT NOT NULL,
                app TEXT NOT NULL,
                app_version TEXT,
                region TEXT,
                session_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                url TEXT NOT NULL,
                page TEXT NOT NULL,
                name TEXT,
                duration_us BIGINT,
                value DOUBLE PRECISION,
                status INTEGER,
                trace_id TEXT,
                message TEXT,
                attributes TEXT NOT NULL
            )""",
            "CREATE INDEX rum_events_by_type_time ON rum_events (app, event_type, received_at)",
            "CREATE INDEX rum_events_by_session ON rum_events (session_id)",
        ],
    ),
]


class Migratable(Protocol):
    dialect: str

    async def run_script(self, statements: list[str]) -> None: ...

    async def fetch(self, sql: str, params: dict[str, object]) -> list[tuple]: ...


async def migrate(database: Migratable) -> int:
    """Apply the migrations the database lacks; returns the schema version now in force."""
    await database.run_script(
        [
            "CREATE TABLE IF NOT EXISTS rum_schema_version "
            "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
        ]
    )
    rows = await database.fetch("SELECT MAX(version) FROM rum_schema_version", {})
    current = rows[0][0] or 0
    for version, statements in MIGRATIONS:
        if version > current:
            ddl = [statement.format(id=ID_COLUMN[database.dialect]) for statement in statements]
            record = (
                "INSERT INTO rum_schema_version (version, applied_at) "
                f"VALUES ({int(version)}, {time.time():.3f})"
            )
            await database.run_script([*ddl, record])
            current = version
    return current
