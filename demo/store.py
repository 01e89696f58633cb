"""The database dependency: assignments kept in SQLite, each query in a CLIENT span."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.trace import SpanKind, Tracer

COLUMNS = ("id", "title", "description", "assignee", "priority", "due_date", "status", "created_at")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS assignments (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT,
    assignee TEXT,
    priority TEXT NOT NULL,
    due_date TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""


class DatabaseUnavailable(Exception):
    """The database cannot be reached or cannot answer."""


class AssignmentStore:
    """Assignments table of one SQLite database (a file, or in memory for the process).

    `is_down` lets fault injection cut the connection: while it returns True every query
    fails as a real outage would.
    """

    def __init__(self, path: str | None, tracer: Tracer, is_down: Callable[[], bool]) -> None:
        self.name = path or ":memory:"
        self._tracer = tracer
        self._is_down = is_down
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.name, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def is_up(self) -> bool:
        """Answer a trivial query, without tracing (used at every metrics scrape)."""
        try:
            self._query("SELECT 1")
        except DatabaseUnavailable:
            return False
        return True

    def ping(self) -> None:
        with self._span("db.ping", "SELECT", table=None):
            self._query("SELECT 1")

    def insert(self, assignment: dict[str, Any]) -> None:
        with self._span("db.insert_assignment", "INSERT"):
            placeholders = ", ".join("?" for _ in COLUMNS)
            self._query(
                f"INSERT INTO assignments ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                tuple(assignment[c] for c in COLUMNS),
            )

    def get(self, assignment_id: str) -> dict[str, Any] | None:
        with self._span("db.get_assignment", "SELECT"):
            rows = self._query("SELECT * FROM assignments WHERE id = ?", (assignment_id,))
        return dict(rows[0]) if rows else None

    def delete(self, assignment_id: str) -> bool:
        """Delete one assignment; False when there was none with that id."""
        with self._span("db.delete_assignment", "DELETE"):
            sql = "DELETE FROM assignments WHERE id = ? RETURNING id"
            rows = self._query(sql, (assignment_id,))
        return bool(rows)

    @contextmanager
    def _span(self, name: str, operation: str, table: str | None = "assignments") -> Iterator[None]:
        attributes = {"db.system": "sqlite", "db.name": self.name, "db.operation": operation}
        if table:
            attributes["db.sql.table"] = table
        with self._tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
            yield

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        if self._is_down():
            raise DatabaseUnavailable("database connection refused")
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise DatabaseUnavailable(str(exc)) from exc
