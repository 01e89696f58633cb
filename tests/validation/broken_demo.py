"""The demo service with one telemetry defect, for the validation tests only.

`python -m tests.validation.broken_demo` runs `python -m demo` after patching in the defect
named by $BREAK; demo/ itself stays correct:

- `traceparent`: the service ignores incoming trace context (every request starts a new trace).
- `log_trace_ids`: log records are emitted outside any trace context (no trace or span id).
"""

from __future__ import annotations

import os
import sys

from opentelemetry import context as otel_context

from demo import __main__ as demo_main
from demo import logs, middleware


class _IgnoreIncomingContext:
    def extract(self, carrier, context=None, getter=None):
        return otel_context.Context()


def _emit_without_context(handler: logs.OtlpLogHandler, record) -> None:
    token = otel_context.attach(otel_context.Context())
    try:
        _original_emit(handler, record)
    finally:
        otel_context.detach(token)


_original_emit = logs.OtlpLogHandler.emit
_original_format = logs.JsonFormatter.format


def _format_without_context(formatter: logs.JsonFormatter, record) -> str:
    token = otel_context.attach(otel_context.Context())
    try:
        return _original_format(formatter, record)
    finally:
        otel_context.detach(token)


BREAKS = {
    "traceparent": lambda: setattr(middleware, "_propagator", _IgnoreIncomingContext()),
    "log_trace_ids": lambda: (
        setattr(logs.OtlpLogHandler, "emit", _emit_without_context),
        setattr(logs.JsonFormatter, "format", _format_without_context),
    ),
}

if __name__ == "__main__":
    BREAKS[os.environ["BREAK"]]()
    sys.exit(demo_main.main())
