"""Run the capture receiver under uvicorn."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from signalcheck.capture.app import create_app
from signalcheck.capture.otlp import DEFAULT_MAX_BODY_BYTES
from signalcheck.capture.store import CaptureStore

__all__ = ["DEFAULT_DB", "DEFAULT_HOST", "DEFAULT_PORT", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318  # the OTLP/HTTP default port
DEFAULT_DB = "capture.db"


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    db_path: str | Path = DEFAULT_DB,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    log_level: str = "info",
) -> None:
    """Serve the capture receiver until SIGINT/SIGTERM; the store is closed on the way out."""
    store = CaptureStore(db_path)
    try:
        app = create_app(store, max_body_bytes=max_body_bytes)
        uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
    finally:
        store.close()
