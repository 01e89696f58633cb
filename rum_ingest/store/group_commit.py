"""Group commit: batches that arrive while a transaction is being written share the next one.

Every caller waits until the transaction holding its rows has committed, so an answer sent
after `write` returns is never ahead of the disk; under load one commit carries many batches.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from signalcheck.errors import SignalcheckError

MAX_ROWS_PER_COMMIT = 5000

Pending = tuple[list[tuple], asyncio.Future[None]]
T = TypeVar("T")


def take_group(queue: deque[T], max_rows: int, rows_of: Callable[[T], list[tuple]]) -> list[T]:
    """As many waiting items, oldest first, as fit in one commit of `max_rows` rows; always
    at least one, however many rows it holds."""
    group = [queue.popleft()]
    size = len(rows_of(group[0]))
    while queue and size + len(rows_of(queue[0])) <= max_rows:
        group.append(queue.popleft())
        size += len(rows_of(group[-1]))
    return group


class StoreClosed(SignalcheckError, RuntimeError):
    """The store is closed: it takes no more rows."""


class GroupCommit:
    """Groups of at most `max_rows` rows, up to `in_flight` of them being committed at once;
    the next forms meanwhile."""

    def __init__(
        self,
        insert: Callable[[list[tuple]], Awaitable[None]],
        in_flight: int = 1,
        max_rows: int = MAX_ROWS_PER_COMMIT,
    ):
        self._insert = insert
        self._max_rows = max_rows
        self._slots = asyncio.Semaphore(in_flight)
        self._committing: set[asyncio.Task[None]] = set()
        self._pending: deque[Pending] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rum-group-commit")

    async def write(self, rows: list[tuple]) -> None:
        """Return once `rows` are committed; raise what the database raised otherwise."""
        if self._task is None or self._closing:
            raise StoreClosed("the store is closed")
        done = asyncio.get_running_loop().create_future()
        self._pending.append((rows, done))
        self._wakeup.set()
        await done

    async def close(self) -> None:
        """Commit what is pending, then stop."""
        if self._task is None:
            return
        self._closing = True
        self._wakeup.set()
        await self._task
        self._task = None

    async def _run(self) -> None:
        while not (self._closing and not self._pending):
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                # Let the requests the loop has already read reach the queue first: they join
                # this commit instead of waiting for the next one.
                await asyncio.sleep(0)
                await self._slots.acquire()
                task = asyncio.create_task(
                    self._commit(take_group(self._pending, self._max_rows, lambda item: item[0]))
                )
                self._committing.add(task)
                task.add_done_callback(self._committed)
        await asyncio.gather(*self._committing)

    def _committed(self, task: asyncio.Task[None]) -> None:
        self._committing.discard(task)
        self._slots.release()

    async def _commit(self, group: list[Pending]) -> None:
        try:
            await self._insert([row for rows, _ in group for row in rows])
        except Exception as exc:
            for _, done in group:
                if not done.done():
                    done.set_exception(exc)
        else:
            for _, done in group:
                if not done.done():
                    done.set_result(None)
