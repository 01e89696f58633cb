"""Run the RUM ingest under uvicorn."""

from __future__ import annotations

import gc

import uvicorn

from rum_ingest.app import create_app
from rum_ingest.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def serve(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until SIGINT/SIGTERM; pending batches are committed on the way out."""
    app = create_app(settings)
    tune_garbage_collection()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,  # beacons carry ?api_key=; and a line per batch is noise
        timeout_graceful_shutdown=5,
    )


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
