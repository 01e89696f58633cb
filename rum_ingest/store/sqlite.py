"""SQLite in WAL mode: a writer process commits, one connection on a worker thread reads.

Every batch's rows go to the writer process (`sqlite_writer`) the moment they are ready, and the
batch is answered when the writer acknowledges their commit. Binding the values, stepping the
B-trees and the commit's fsync took a third of the ingest's time on the event loop's thread; in
their own process they run beside it, and the loop only pickles the rows and writes them to a
socket. Handing them to a thread of this process saved little: binding is CPU work under the
GIL, and every hand-over of the GIL under load cost as much as it saved. SQLite serialises
writers anyway: run one ingest process per SQLite file (PostgreSQL for more).

The writer's connection keeps SQLite's auto-checkpoint, right after its commits, which lets the
WAL restart and stay small. The reading connection runs the analytics queries, which may take
long, and the schema migrations at start-up, on a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from signalcheck.errors import SignalcheckError
from signalcheck.private import private_file
from signalcheck.rum_ingest.store.group_commit import StoreClosed
from signalcheck.rum_ingest.store.sqlite_writer import FrameReader, connect, frame

logger = logging.getLogger("rum_ingest")

WRITER_COMMAND = (
    "import sys; from signalcheck.rum_ingest.store.sqlite_writer import main; "
    "sys.exit(main(sys.argv))"
)
# A commit may wait BUSY_TIMEOUT for the write lock, then fsync: 30 s means the writer is stuck.
COMMIT_TIMEOUT = 30.0
WATCH_INTERVAL = 1.0  # how often the oldest unacknowledged batch is checked against the timeout
STOP_TIMEOUT = 10.0


class WriterFailed(SignalcheckError, RuntimeError):
    """The writer process did not commit a batch: it rolled it back, or it died."""


class WriterChannel(asyncio.Protocol):
    """The ingest's end of the socket to the writer: frames out, acknowledgements in."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        # (monotonic time sent, future), in the order the frames went out
        self.pending: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._acks = FrameReader()
        self._outgoing: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    @property
    def open(self) -> bool:
        return not self.transport.is_closing()

    def send(self, rows: list[tuple]) -> asyncio.Future[None]:
        """Send one batch's rows; the future resolves when the writer has committed them.

        The frames of the batches that reach this point in one turn of the event loop go out
        in one write at its end: one system call and one wake-up of the writer for all."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self.pending.append((loop.time(), done))
        if not self._outgoing:
            loop.call_soon(self._flush)
        self._outgoing.append(frame([tuple(row) for row in rows]))  # a Row pickles 3x slower
        return done

    def _flush(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(b"".join(self._outgoing))
        self._outgoing.clear()

    def data_received(self, data: bytes) -> None:
        self._acks.feed(data)
        while self._acks.frames:
            count, error = self._acks.frames.popleft()
            for _ in range(count):
                _, done = self.pending.popleft()
                if done.done():  # failed already by the watchdog
                    continue
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(WriterFailed(error))

    def fail_all(self, reason: str) -> None:
        """Answer every batch still waiting with WriterFailed(reason)."""
        while self.pending:
            _, done = self.pending.popleft()
            if not done.done():
                done.set_exception(WriterFailed(reason))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport.close()
        self.fail_all("the SQLite writer stopped before committing")


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path):
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rum-sqlite")
        self._conn = None  # reads and migrations, on the worker thread
        self._writer: asyncio.subprocess.Process | None = None
        self._channel: WriterChannel | None = None
        self._starting = asyncio.Lock()
        self._closed = False
        self._watchdog: asyncio.TimerHandle | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private_file(self.path)  # the store holds every user's events: its owner's only
        self._conn = await self._run(connect, self.path)
        await self._running_channel()
        self._watch()

    async def _run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def _running_channel(self) -> WriterChannel:
        """The channel to the writer process, which is started again should it have died."""
        async with self._starting:
            if self._closed:
                raise StoreClosed("the store is closed")
            if self._writer is not None:
                if self._writer.returncode is None and self._channel.open:
                    return self._channel
                await self._stop(kill=True)
                logger.warning(
                    "the SQLite writer exited (%s); starting another", self._writer.returncode
                )
            ours, theirs = socket.socketpair()
            with theirs:
                self._writer = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", WRITER_COMMAND, str(self.path), stdin=theirs
                )
            loop = asyncio.get_running_loop()
            _, self._channel = await loop.connect_accepted_socket(WriterChannel, ours)
            return self._channel

    async def add(self, rows: list[tuple]) -> None:
        """Return once the writer has committed `rows`; WriterFailed if it did not."""
        channel = self._channel
        if channel is None or not channel.open or self._writer.returncode is not None:
            channel = await self._running_channel()
        await channel.send(rows)

    def _watch(self) -> None:
        """Every WATCH_INTERVAL: a writer holding a batch for over COMMIT_TIMEOUT is stuck;
        fail what it holds and kill it. One timer for all batches: a timeout per batch cost
        the loop more than the rest of the hand-over."""
        channel, loop = self._channel, asyncio.get_running_loop()
        if channel is not None and channel.pending:
            sent_at, _ = channel.pending[0]
            if loop.time() - sent_at > COMMIT_TIMEOUT:
                channel.fail_all(f"the SQLite writer did not commit in {COMMIT_TIMEOUT:g} s")
                channel.transport.close()  # the next batch starts another writer
                if self._writer.returncode is None:
                    self._writer.kill()
        self._watchdog = loop.call_later(WATCH_INTERVAL, self._watch)

    async def ping(self) -> None:
        """Raise unless the writer runs and the reading connection answers."""
        await self._running_channel()
        await self._run(lambda: self._conn.execute("SELECT 1").fetchall())

    async def fetch(self, sql: str, params: dict[str, object]) -> list[tuple]:
        return await self._run(lambda: self._conn.execute(sql, params).fetchall())

    async def run_script(self, statements: list[str]) -> None:
        def run() -> None:
            with self._conn:
                for statement in statements:
                    self._conn.execute(statement)

        await self._run(run)

    async def _stop(self, kill: bool = False) -> None:
        """Stop the writer: after it has committed and acknowledged what it holds, or at once
        when `kill` (what it held is then answered with WriterFailed)."""
        writer, channel = self._writer, self._channel
        if writer is None:
            return
        if kill and writer.returncode is None:
            writer.kill()
        elif channel.open:
            channel.transport.write_eof()  # the writer commits what it has, answers, exits
        try:
            await asyncio.wait_for(writer.wait(), STOP_TIMEOUT)
        except TimeoutError:
            writer.kill()
            await writer.wait()
        channel.transport.close()

    async def close(self) -> None:
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        await self._stop()
        self._writer = self._channel = None
        if self._conn is not None:
            await self._run(self._conn.close)
            self._conn = None
        self._thread.shutdown(wait=True)
