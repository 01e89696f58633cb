"""Run the RUM ingest under uvicorn."""

from __future__ import annotations

import uvicorn

from rum_ingest.app import create_app
from rum_ingest.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def serve(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until SIGINT/SIGTERM; pending batches are committed on the way out."""
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        access_log=False,  # beacons carry ?api_key=; and a line per batch is noise
        timeout_graceful_shutdown=5,
    )
