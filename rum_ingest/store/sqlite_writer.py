"""The SQLite writer process: commits the rows the ingest sends it and says when they are durable.

The ingest hands every batch's rows to this process and answers its client once the commit is
acknowledged, so binding values, stepping the B-trees and the fsync of each commit run on
another core instead of stalling the event loop. The two talk over a socket (the writer's stdin
and stdout), in frames of a 4-byte big-endian length and a pickle:

  ingest -> writer   a list of rows, one frame per batch
  writer -> ingest   (count, error): the next `count` frames were committed (error None), or
                     rolled back with the text of the error

Group commit: every frame that has arrived by the time a transaction starts joins it (up to
MAX_ROWS_PER_COMMIT rows), so under load one fsync carries many batches. End of input (the
ingest stopped or died) ends the process after the transaction in hand.
"""

from __future__ import annotations

import pickle
import select
import signal
import socket
import sqlite3
import struct
import sys
from collections import deque
from functools import cache
from itertools import chain
from pathlib import Path

from signalcheck.rum_ingest.rows import COLUMNS
from signalcheck.rum_ingest.store.group_commit import MAX_ROWS_PER_COMMIT, take_group

HEADER = struct.Struct("!I")
BUSY_TIMEOUT_MS = 10_000
READ_SIZE = 1 << 20
INSERT = f"INSERT INTO rum_events ({', '.join(COLUMNS)}) VALUES "
ONE_ROW = f"({', '.join('?' for _ in COLUMNS)})"
# Multi-row INSERTs: one statement step per 100 rows instead of one per row. 100 rows bind
# 1,700 values, far below SQLite's limit of 32,766.
ROWS_PER_STATEMENT = 100
STATEMENT_CACHE = 2 * ROWS_PER_STATEMENT  # a prepared statement per chunk length, kept


def connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode whose commits survive power loss."""
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
        cached_statements=STATEMENT_CACHE,
    )  # fmt: skip
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a committed batch survives power loss too
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def frame(message: object) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


class FrameReader:
    """Bytes in, whole frames out: `feed` what arrived, then take the complete frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.frames: deque[object] = deque()

    def feed(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while len(buffer) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(buffer, start)
            end = start + HEADER.size + size
            if end > len(buffer):
                break
            self.frames.append(pickle.loads(buffer[start + HEADER.size : end]))
            start = end
        del buffer[:start]


@cache
def insert_statement(rows: int) -> str:
    """`INSERT ... VALUES (?, ...), (?, ...)` for `rows` rows."""
    return INSERT + ", ".join([ONE_ROW] * rows)


def insert_rows(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """All rows in one transaction, committed (and fsynced) on return."""
    with conn:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            conn.execute(insert_statement(len(chunk)), list(chain.from_iterable(chunk)))


def serve(conn: sqlite3.Connection, channel: socket.socket) -> None:
    """Commit and acknowledge frames of rows until the ingest closes the channel."""
    reader = FrameReader()
    open_ = True
    while open_ or reader.frames:
        # Block for input only when there is nothing to commit; otherwise take what is there.
        waiting = not reader.frames
        while open_ and (waiting or select.select([channel], [], [], 0)[0]):
            data = channel.recv(READ_SIZE)
            open_ = bool(data)
            reader.feed(data)
            waiting = waiting and not reader.frames
        if reader.frames:
            group = take_group(reader.frames, MAX_ROWS_PER_COMMIT, lambda rows: rows)
            count = len(group)
            try:
                insert_rows(conn, list(chain.from_iterable(group)))
                error = None
            except Exception as exc:  # the ingest answers 503: its clients send the batch again
                error = f"{type(exc).__name__}: {exc}"
            channel.sendall(frame((count, error)))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: ... sqlite_writer PATH   (stdin: a socket from the ingest)", file=sys.stderr)
        return 2
    # Ctrl-C reaches the whole process group: let the ingest shut down first; the writer
    # stops when its input ends, with everything it was sent committed and answered.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = connect(Path(argv[1]))
    channel = socket.socket(fileno=sys.stdin.fileno())
    try:
        serve(conn, channel)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the ingest is gone: nobody waits for an answer
    finally:
        conn.close()  # checkpoints, and removes the WAL if no other connection is open
    return 0
