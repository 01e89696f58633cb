"""Logging: one JSON object per line on stdout, and the same records as OTLP logs."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.resources import Resource

from signalcheck.demo.settings import Settings

LOGGER_NAMES = ("demo", "uvicorn")
"""Loggers whose records the demo formats and exports: its own and the server's. The demo's
modules name theirs `demo.<module>`, not `__name__` (`signalcheck.demo.<module>` installed),
so a record's logger reads the same wherever the demo runs."""

_NOT_EXTRA = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
"""Record attributes that are not `extra=` fields (color_message is uvicorn's ANSI copy)."""

_SEVERITY = {
    logging.DEBUG: (SeverityNumber.DEBUG, "DEBUG"),
    logging.INFO: (SeverityNumber.INFO, "INFO"),
    logging.WARNING: (SeverityNumber.WARN, "WARN"),
    logging.ERROR: (SeverityNumber.ERROR, "ERROR"),
    logging.CRITICAL: (SeverityNumber.FATAL, "FATAL"),
}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields passed with `extra=` when the record was logged."""
    return {k: v for k, v in vars(record).items() if k not in _NOT_EXTRA}


class JsonFormatter(logging.Formatter):
    """One JSON line per record, with the current trace and span ids when there is a span."""

    def __init__(self, service: str, region: str) -> None:
        super().__init__()
        self.service = service
        self.region = region

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "service": self.service,
            "region": self.region,
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            line["trace_id"] = trace.format_trace_id(span_context.trace_id)
            line["span_id"] = trace.format_span_id(span_context.span_id)
        line.update(extra_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class OtlpLogHandler(logging.Handler):
    """Emits each record to an OpenTelemetry logger provider, in the current trace context."""

    def __init__(self, provider: LoggerProvider) -> None:
        super().__init__()
        self.provider = provider

    def emit(self, record: logging.LogRecord) -> None:
        severity_number, severity_text = _SEVERITY.get(
            record.levelno, (SeverityNumber.UNSPECIFIED, record.levelname)
        )
        attributes = {k: _attribute_value(v) for k, v in extra_fields(record).items()}
        attributes["logger"] = record.name
        self.provider.get_logger(record.name).emit(
            timestamp=int(record.created * 1e9),
            context=otel_context.get_current(),
            severity_number=severity_number,
            severity_text=severity_text,
            body=record.getMessage(),
            attributes=attributes,
            exception=record.exc_info[1] if record.exc_info else None,
        )


def _attribute_value(value: Any) -> str | bool | int | float:
    return value if isinstance(value, str | bool | int | float) else str(value)


def build_logger_provider(
    settings: Settings, resource: Resource, exporter: LogRecordExporter | None = None
) -> LoggerProvider:
    """Records go to `exporter`, else to OTLP/HTTP when an endpoint is set, else nowhere."""
    provider = LoggerProvider(resource=resource)
    if exporter is None and settings.otlp_endpoint:
        exporter = OTLPLogExporter(endpoint=f"{settings.otlp_endpoint.rstrip('/')}/v1/logs")
    if exporter is not None:
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    return provider


def configure_logging(settings: Settings, service: str, provider: LoggerProvider) -> None:
    """Send the demo's and the server's records to stdout as JSON and to `provider`.

    Replaces the handlers set by an earlier call, so building a new app re-points logging.
    """
    stdout = logging.StreamHandler(sys.stdout)
    stdout.setFormatter(JsonFormatter(service=service, region=settings.region))
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        logger.handlers = [stdout, OtlpLogHandler(provider)]
        logger.setLevel(logging.INFO)
        logger.propagate = False
