"""SQLite in WAL mode: one writing connection on the event loop's thread, one reading
connection on a worker thread.

Writes are serialised as SQLite requires: only the group-commit task (`writer.GroupCommit`)
writes, one transaction at a time, on the loop's thread. Handing each transaction to a thread
cost more than it saved: binding rows is CPU work that needs the GIL the loop holds, and under
load every hand-over waited for the GIL (the benchmark measured 3 ms per commit in the thread
against 0.9 ms on the loop). What blocks the loop is the commit's fsync, once per group of
batches, and a wait of up to BUSY_TIMEOUT_MS should another process hold the write lock: run
one ingest process per SQLite file (PostgreSQL for more).

The worker thread runs the analytics queries, which may take long, and most of the long disk
work: a passive checkpoint of the WAL into the database every CHECKPOINT_EVERY commits. The
writing connection keeps SQLite's auto-checkpoint all the same: under steady writes, a
checkpoint from another connection never finds the WAL between two commits, so the WAL never
restarts and grows without bound (276 MB in 10 s of the benchmark); the writer's own
checkpoint, right after a commit, finds little left to copy and lets the next transaction
restart the WAL.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from itertools import chain
from pathlib import Path

from rum_ingest.rows import COLUMNS

logger = logging.getLogger("rum_ingest")

INSERT = f"INSERT INTO rum_events ({', '.join(COLUMNS)}) VALUES "
ONE_ROW = f"({', '.join('?' for _ in COLUMNS)})"
# Multi-row INSERTs: one statement step per 100 rows instead of one per row. 100 rows bind
# 1,700 values, far below SQLite's limit of 32,766.
ROWS_PER_STATEMENT = 100
STATEMENT_CACHE = 2 * ROWS_PER_STATEMENT  # a prepared statement per chunk length, kept
CHECKPOINT_EVERY = 100  # commits; each adds a few pages to the WAL
BUSY_TIMEOUT_MS = 10_000


@cache
def insert_statement(rows: int) -> str:
    """`INSERT ... VALUES (?, ...), (?, ...)` for `rows` rows."""
    return INSERT + ", ".join([ONE_ROW] * rows)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
        cached_statements=STATEMENT_CACHE,
    )  # fmt: skip
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a committed batch survives power loss too
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path):
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rum-sqlite")
        self._conn: sqlite3.Connection | None = None  # writes, on the loop's thread
        self._reader: sqlite3.Connection | None = None  # reads and checkpoints, on the worker
        self._commits = 0
        self._checkpoint: Future[None] | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = _connect(self.path)  # keeps SQLite's auto-checkpoint: see above
        self._reader = await self._run(_connect, self.path)

    async def _run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def insert_rows(self, rows: list[tuple]) -> None:
        conn = self._conn
        with conn:  # one transaction, committed on exit
            for start in range(0, len(rows), ROWS_PER_STATEMENT):
                chunk = rows[start : start + ROWS_PER_STATEMENT]
                conn.execute(insert_statement(len(chunk)), list(chain.from_iterable(chunk)))
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and (
            self._checkpoint is None or self._checkpoint.done()
        ):
            self._commits = 0
            self._checkpoint = self._thread.submit(self._checkpoint_wal)

    def _checkpoint_wal(self) -> None:
        """Copy committed WAL frames into the database; never blocks the writer."""
        try:
            self._reader.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            logger.warning("checkpointing the SQLite WAL failed: %s", exc)

    async def ping(self) -> None:
        """Raise unless the writing connection answers (`SELECT 1` reads no page: instant)."""
        self._conn.execute("SELECT 1").fetchall()

    async def fetch(self, sql: str, params: dict[str, object]) -> list[tuple]:
        return await self._run(lambda: self._reader.execute(sql, params).fetchall())

    async def run_script(self, statements: list[str]) -> None:
        with self._conn:
            for statement in statements:
                self._conn.execute(statement)

    async def close(self) -> None:
        if self._reader is not None:
            await self._run(self._reader.close)
            self._reader = None
        if self._conn is not None:
            self._conn.close()  # the last connection: checkpoints and removes the WAL
            self._conn = None
        self._thread.shutdown(wait=True)
