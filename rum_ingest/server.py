"""Run the RUM ingest under uvicorn, in one process or in several workers sharing the port."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from signalcheck.rum_ingest.app import create_app
from signalcheck.rum_ingest.metrics import shared_between_processes
from signalcheck.rum_ingest.settings import Settings
from signalcheck.rum_ingest.store import EventStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def serve(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until SIGINT/SIGTERM; pending batches are committed on the way out."""
    with ingest_app(settings) as app:
        run(app, host, port, settings.workers)


@contextmanager
def ingest_app(settings: Settings) -> Iterator[FastAPI]:
    """The app `serve` runs. For several workers the schema is migrated first (once, before
    they would race to) and their metrics are shared (a scrape of any reports them all)."""
    if settings.workers == 1:
        yield create_app(settings)
        return
    asyncio.run(_migrate(settings.database_url))
    with shared_between_processes() as metrics_dir:
        yield create_app(settings, metrics_dir)


async def _migrate(database_url: str) -> None:
    store = EventStore(database_url)
    await store.open()  # creates or migrates the schema
    await store.close()


def run(app: ASGIApp, host: str, port: int, workers: int = 1) -> None:
    """Serve `app` in one process, or in `workers` processes forked from this one, each
    accepting on the same socket with its own event loop and store connection (PostgreSQL
    pool, or SQLite writer process: SQLite's lock takes their commits in turn)."""
    tune_garbage_collection()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,  # beacons carry ?api_key=; and a line per batch is noise
        timeout_graceful_shutdown=5,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    sys.exit(_supervise(config, workers))


def _supervise(config: uvicorn.Config, workers: int) -> int:
    """Fork `workers` servers on one socket; forward SIGINT/SIGTERM to them; when one exits,
    stop the rest. Returns the exit status: 0 when every worker stopped cleanly or because it
    was told to (uvicorn ends a worker by the signal it shut down on)."""
    sock = config.bind_socket()
    pids = [_fork_worker(config, sock) for _ in range(workers)]
    sock.close()

    running = set(pids)
    told_to_stop: set[int] = set()

    def forward(signum: int, _frame: object) -> None:
        for pid in running:
            with suppress(ProcessLookupError):  # exited, not yet reaped
                os.kill(pid, signal.SIGTERM)
        told_to_stop.update(running)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    while running:
        pid, wait_status = os.wait()
        running.discard(pid)
        code = os.waitstatus_to_exitcode(wait_status)
        if not (code == 0 or (pid in told_to_stop and code == -signal.SIGTERM)):
            status = 1
        forward(signal.SIGTERM, None)  # one worker gone: the service stops as a whole
    return status


def _fork_worker(config: uvicorn.Config, sock: socket.socket) -> int:
    pid = os.fork()
    if pid:
        return pid
    # A worker must not outlive the supervisor (nobody would stop it): the kernel kills it
    # when its parent dies, whatever the cause. Its SQLite writer then commits what it holds.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    server, code = uvicorn.Server(config), 1
    try:
        server.run(sockets=[sock])
        code = 0 if server.started else 3  # 3: uvicorn's status for a failed start-up
    finally:
        os._exit(code)


# Collect the youngest generation every 50,000 allocations instead of 700. A batch allocates a
# few hundred objects that live until its commit is acknowledged; with the default threshold
# they were promoted and rescanned by the older collections, which took 20% of the ingest's
# CPU at 32 connections (bench/rum_ingest.py: 271 us a batch against 354 us).
GC_THRESHOLDS = (50_000, 10, 10)


def tune_garbage_collection() -> None:
    """Collect less often, and never walk the objects made at start-up (modules, the app,
    pydantic's validators): every request allocates enough for collections to run often, and
    a full collection walking all of them stalled the loop for 10-20 ms (the benchmark's p99)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
