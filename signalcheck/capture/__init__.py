"""The capture receiver: where traces, logs and Alertmanager notifications go on a machine
without Tempo or Loki, and where the validators read them back.

``create_app(store)`` builds the FastAPI app, ``serve(host, port, db_path)`` runs it under
uvicorn, ``CaptureStore(path)`` is the SQLite store.
"""

from signalcheck.capture.alerts import Notification, WebhookPayload
from signalcheck.capture.app import create_app
from signalcheck.capture.otlp import (
    CaptureInputError,
    LogRecord,
    OTLPDecodeError,
    SpanRecord,
    decode_logs,
    decode_traces,
)
from signalcheck.capture.server import serve
from signalcheck.capture.store import CaptureStore

__all__ = [
    "CaptureInputError",
    "CaptureStore",
    "LogRecord",
    "Notification",
    "OTLPDecodeError",
    "SpanRecord",
    "WebhookPayload",
    "create_app",
    "decode_logs",
    "decode_traces",
    "serve",
]
