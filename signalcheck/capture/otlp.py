"""Decode OTLP/HTTP export requests (traces and logs into flat, typed records; metrics into
counts of data points per service and metric name).

Both encodings of OTLP/HTTP are accepted:

* binary protobuf (``application/x-protobuf``), parsed with ``opentelemetry-proto``;
* OTLP JSON (``application/json``): the proto3 JSON mapping with the OTLP deviations —
  ``traceId`` / ``spanId`` / ``parentSpanId`` (and an exemplar's ids) are hex strings (not
  base64), enum fields are
  integers, unknown fields are ignored. The JSON is parsed into the same protobuf messages
  (ids converted from hex first), so both encodings share one flattening path.

A body is decoded completely before anything is returned: any problem raises
:class:`OTLPDecodeError` (HTTP 400) and no record of that body is stored.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import zlib
from typing import Any, Literal

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from pydantic import BaseModel, Field

from signalcheck.errors import SignalcheckError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "CaptureInputError",
    "LogRecord",
    "MetricPoints",
    "OTLPDecodeError",
    "PayloadTooLarge",
    "SpanRecord",
    "UnsupportedMediaType",
    "decode_logs",
    "decode_metrics",
    "decode_traces",
    "decompress",
    "flatten_any_value",
    "media_format",
]

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
"""Limit for a request body, both as received and after decompression (16 MiB)."""

BodyFormat = Literal["protobuf", "json"]

_TRACE_ID_LEN = 16
_SPAN_ID_LEN = 8
UNKNOWN_SERVICE = "unknown_service"

_SPAN_KINDS = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}
_STATUS_CODES = {0: "UNSET", 1: "OK", 2: "ERROR"}


# --------------------------------------------------------------------------- errors


class CaptureInputError(SignalcheckError):
    """Bad input at the HTTP edge; ``status`` is the HTTP status code to answer with."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OTLPDecodeError(CaptureInputError):
    """The body could not be decoded (bad protobuf, bad JSON, bad gzip, invalid ids...)."""

    status = 400


class UnsupportedMediaType(CaptureInputError):
    """Content-Type or Content-Encoding that the receiver does not accept."""

    status = 415


class PayloadTooLarge(CaptureInputError):
    """The body (as sent or once decompressed) is larger than the limit."""

    status = 413


# --------------------------------------------------------------------------- records


class SpanRecord(BaseModel):
    """One span, as returned by ``/api/traces/{id}`` and ``/api/spans``."""

    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    service: str
    name: str
    kind: str = "UNSPECIFIED"
    start_time: float
    end_time: float
    status_code: Literal["UNSET", "OK", "ERROR"] = "UNSET"
    attributes: dict[str, Any] = Field(default_factory=dict)
    resource: dict[str, Any] = Field(default_factory=dict)
    received_at: float | None = None
    """Unix seconds when the receiver stored the span (its first copy); None until stored."""


class LogRecord(BaseModel):
    """One log record, as returned by ``/api/logs``."""

    time: float
    severity_text: str = ""
    severity_number: int = 0
    body: Any = None
    trace_id: str | None = None
    span_id: str | None = None
    service: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    resource: dict[str, Any] = Field(default_factory=dict)
    received_at: float | None = None
    """Unix seconds when the receiver stored the record; None until stored."""


class MetricPoints(BaseModel):
    """The data points one export request carried for one metric of one service."""

    service: str
    name: str
    points: int


# --------------------------------------------------------------------------- HTTP helpers


def media_format(content_type: str | None) -> BodyFormat:
    """Map a Content-Type header to the OTLP body format, or raise UnsupportedMediaType."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in ("application/x-protobuf", "application/protobuf"):
        return "protobuf"
    if media == "application/json":
        return "json"
    shown = media or "(none)"
    raise UnsupportedMediaType(
        f"unsupported Content-Type {shown}: expected application/x-protobuf or application/json"
    )


def decompress(
    body: bytes, content_encoding: str | None, limit: int = DEFAULT_MAX_BODY_BYTES
) -> bytes:
    """Undo ``Content-Encoding`` (identity, gzip, deflate), never producing more than ``limit``."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return _inflate(body, zlib.MAX_WBITS | 16, "gzip", limit)
    if encoding == "deflate":
        # RFC 9110 "deflate" is zlib-wrapped; some clients send a raw deflate stream.
        try:
            return _inflate(body, zlib.MAX_WBITS, "deflate", limit)
        except OTLPDecodeError:
            return _inflate(body, -zlib.MAX_WBITS, "deflate", limit)
    raise UnsupportedMediaType(
        f"unsupported Content-Encoding {encoding}: expected gzip, deflate or identity"
    )


def _inflate(body: bytes, wbits: int, name: str, limit: int) -> bytes:
    out = bytearray()
    data = body
    try:
        while True:
            d = zlib.decompressobj(wbits)
            out += d.decompress(data, limit + 1 - len(out))
            if len(out) > limit:
                raise PayloadTooLarge(f"decompressed body is larger than {limit} bytes")
            if d.unconsumed_tail:
                raise PayloadTooLarge(f"decompressed body is larger than {limit} bytes")
            if not d.eof:
                raise OTLPDecodeError(f"malformed {name} body: truncated stream")
            data = d.unused_data
            # gzip allows several concatenated members; anything else after the end is junk.
            if not data or name != "gzip":
                if data:
                    raise OTLPDecodeError(f"malformed {name} body: trailing data")
                return bytes(out)
    except zlib.error as exc:
        raise OTLPDecodeError(f"malformed {name} body: {exc}") from exc


# --------------------------------------------------------------------------- AnyValue


def flatten_any_value(value: common_pb2.AnyValue) -> Any:
    """AnyValue -> plain Python (str, bool, int, float, list, dict, None).

    bytes become base64 text; non-finite doubles become the strings "NaN", "Infinity",
    "-Infinity" so that every record stays valid JSON.
    """
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return value.bool_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        d = value.double_value
        if math.isfinite(d):
            return d
        return "NaN" if math.isnan(d) else ("Infinity" if d > 0 else "-Infinity")
    if which == "array_value":
        return [flatten_any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return flatten_attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None  # a future oneof member: keep the key, drop the value


def flatten_attributes(kvs: Any) -> dict[str, Any]:
    """Repeated KeyValue -> dict (a repeated key keeps its last value)."""
    return {kv.key: flatten_any_value(kv.value) for kv in kvs}


def _service_of(resource: dict[str, Any]) -> str:
    name = resource.get("service.name")
    if name is None or name == "":
        return UNKNOWN_SERVICE
    return name if isinstance(name, str) else str(name)


def _id_hex(raw: bytes, size: int, what: str, *, required: bool) -> str | None:
    if not raw:
        if required:
            raise OTLPDecodeError(f"{what} is empty")
        return None
    if len(raw) != size:
        raise OTLPDecodeError(f"{what} must be {size} bytes, got {len(raw)}")
    return raw.hex()


# --------------------------------------------------------------------------- JSON ids


def _json_id_to_b64(value: Any, size: int, where: str) -> str:
    """OTLP JSON id (hex; base64 of the right size tolerated) -> base64 for json_format."""
    if not isinstance(value, str):
        raise OTLPDecodeError(f"{where} must be a hex string, got {type(value).__name__}")
    if value == "":
        return ""
    if len(value) == 2 * size:
        try:
            return base64.b64encode(binascii.unhexlify(value)).decode("ascii")
        except (binascii.Error, ValueError):
            pass
    # Some exporters use protobuf's standard mapping (base64) instead of OTLP's hex.
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == size:
        return value
    raise OTLPDecodeError(f"{where} must be {2 * size} hex digits, got {value!r}")


def _fix_ids(obj: dict[str, Any], where: str) -> None:
    """Convert the hex ids of one Span / Link / LogRecord JSON object in place."""
    for key, alt, size in (
        ("traceId", "trace_id", _TRACE_ID_LEN),
        ("spanId", "span_id", _SPAN_ID_LEN),
        ("parentSpanId", "parent_span_id", _SPAN_ID_LEN),
    ):
        for name in (key, alt):
            if name in obj and obj[name] is not None:
                obj[name] = _json_id_to_b64(obj[name], size, f"{where}.{name}")


def _items(obj: Any, key: str, alt: str, where: str) -> list[Any]:
    if not isinstance(obj, dict):
        raise OTLPDecodeError(f"{where} must be a JSON object")
    value = obj.get(key, obj.get(alt))
    if value is None:
        return []
    if not isinstance(value, list):
        raise OTLPDecodeError(f"{where}.{key} must be a JSON array")
    return value


def _load_json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OTLPDecodeError(f"malformed JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise OTLPDecodeError("malformed OTLP JSON: the body must be a JSON object")
    return doc


def _parse_json_into(doc: dict[str, Any], message: Any) -> None:
    try:
        json_format.ParseDict(doc, message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise OTLPDecodeError(f"invalid OTLP JSON: {exc}") from exc


def _parse_protobuf_into(body: bytes, message: Any) -> None:
    try:
        message.ParseFromString(body)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise OTLPDecodeError(f"malformed protobuf: {exc}") from exc


# --------------------------------------------------------------------------- traces


def parse_trace_request(
    body: bytes, fmt: BodyFormat
) -> trace_service_pb2.ExportTraceServiceRequest:
    """Body -> ExportTraceServiceRequest (raises OTLPDecodeError)."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    if fmt == "protobuf":
        _parse_protobuf_into(body, request)
        return request
    doc = _load_json(body)
    for i, rs in enumerate(_items(doc, "resourceSpans", "resource_spans", "request")):
        rs_where = f"resourceSpans[{i}]"
        for j, ss in enumerate(_items(rs, "scopeSpans", "scope_spans", rs_where)):
            ss_where = f"{rs_where}.scopeSpans[{j}]"
            for k, span in enumerate(_items(ss, "spans", "spans", ss_where)):
                span_where = f"{ss_where}.spans[{k}]"
                if not isinstance(span, dict):
                    raise OTLPDecodeError(f"{span_where} must be a JSON object")
                _fix_ids(span, span_where)
                for n, link in enumerate(_items(span, "links", "links", span_where)):
                    if not isinstance(link, dict):
                        raise OTLPDecodeError(f"{span_where}.links[{n}] must be a JSON object")
                    _fix_ids(link, f"{span_where}.links[{n}]")
    _parse_json_into(doc, request)
    return request


def decode_traces(body: bytes, fmt: BodyFormat) -> list[SpanRecord]:
    """Decode an OTLP trace export body (already decompressed) into span records."""
    request = parse_trace_request(body, fmt)
    spans: list[SpanRecord] = []
    for i, rs in enumerate(request.resource_spans):
        resource = flatten_attributes(rs.resource.attributes)
        service = _service_of(resource)
        for j, ss in enumerate(rs.scope_spans):
            for k, span in enumerate(ss.spans):
                where = f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}]"
                spans.append(
                    SpanRecord(
                        trace_id=_id_hex(
                            span.trace_id, _TRACE_ID_LEN, f"{where}.traceId", required=True
                        ),
                        span_id=_id_hex(
                            span.span_id, _SPAN_ID_LEN, f"{where}.spanId", required=True
                        ),
                        parent_span_id=_id_hex(
                            span.parent_span_id,
                            _SPAN_ID_LEN,
                            f"{where}.parentSpanId",
                            required=False,
                        ),
                        service=service,
                        name=span.name,
                        kind=_SPAN_KINDS.get(span.kind, "UNSPECIFIED"),
                        start_time=span.start_time_unix_nano / 1e9,
                        end_time=span.end_time_unix_nano / 1e9,
                        status_code=_STATUS_CODES.get(span.status.code, "UNSET"),
                        attributes=flatten_attributes(span.attributes),
                        resource=resource,
                    )
                )
    return spans


# --------------------------------------------------------------------------- logs


def parse_logs_request(body: bytes, fmt: BodyFormat) -> logs_service_pb2.ExportLogsServiceRequest:
    """Body -> ExportLogsServiceRequest (raises OTLPDecodeError)."""
    request = logs_service_pb2.ExportLogsServiceRequest()
    if fmt == "protobuf":
        _parse_protobuf_into(body, request)
        return request
    doc = _load_json(body)
    for i, rl in enumerate(_items(doc, "resourceLogs", "resource_logs", "request")):
        rl_where = f"resourceLogs[{i}]"
        for j, sl in enumerate(_items(rl, "scopeLogs", "scope_logs", rl_where)):
            sl_where = f"{rl_where}.scopeLogs[{j}]"
            for k, rec in enumerate(_items(sl, "logRecords", "log_records", sl_where)):
                rec_where = f"{sl_where}.logRecords[{k}]"
                if not isinstance(rec, dict):
                    raise OTLPDecodeError(f"{rec_where} must be a JSON object")
                _fix_ids(rec, rec_where)
    _parse_json_into(doc, request)
    return request


def decode_logs(body: bytes, fmt: BodyFormat) -> list[LogRecord]:
    """Decode an OTLP logs export body (already decompressed) into log records."""
    request = parse_logs_request(body, fmt)
    now = time.time()
    logs: list[LogRecord] = []
    for i, rl in enumerate(request.resource_logs):
        resource = flatten_attributes(rl.resource.attributes)
        service = _service_of(resource)
        for j, sl in enumerate(rl.scope_logs):
            for k, rec in enumerate(sl.log_records):
                where = f"resourceLogs[{i}].scopeLogs[{j}].logRecords[{k}]"
                # The data model: when time_unix_nano is unset, use the observed time.
                nanos = rec.time_unix_nano or rec.observed_time_unix_nano
                logs.append(
                    LogRecord(
                        time=nanos / 1e9 if nanos else now,
                        severity_text=rec.severity_text,
                        severity_number=int(rec.severity_number),
                        body=flatten_any_value(rec.body) if rec.HasField("body") else None,
                        trace_id=_id_hex(
                            rec.trace_id, _TRACE_ID_LEN, f"{where}.traceId", required=False
                        ),
                        span_id=_id_hex(
                            rec.span_id, _SPAN_ID_LEN, f"{where}.spanId", required=False
                        ),
                        service=service,
                        attributes=flatten_attributes(rec.attributes),
                        resource=resource,
                    )
                )
    return logs


# --------------------------------------------------------------------------- metrics

_METRIC_DATA = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
"""The OTLP JSON names of a Metric's `data` kinds (each holds `dataPoints`)."""


def parse_metrics_request(
    body: bytes, fmt: BodyFormat
) -> metrics_service_pb2.ExportMetricsServiceRequest:
    """Body -> ExportMetricsServiceRequest (raises OTLPDecodeError)."""
    request = metrics_service_pb2.ExportMetricsServiceRequest()
    if fmt == "protobuf":
        _parse_protobuf_into(body, request)
        return request
    doc = _load_json(body)
    for i, rm in enumerate(_items(doc, "resourceMetrics", "resource_metrics", "request")):
        rm_where = f"resourceMetrics[{i}]"
        for j, sm in enumerate(_items(rm, "scopeMetrics", "scope_metrics", rm_where)):
            sm_where = f"{rm_where}.scopeMetrics[{j}]"
            for k, metric in enumerate(_items(sm, "metrics", "metrics", sm_where)):
                _fix_exemplar_ids(metric, f"{sm_where}.metrics[{k}]")
    _parse_json_into(doc, request)
    return request


def _fix_exemplar_ids(metric: Any, where: str) -> None:
    """Convert the hex ids of one Metric JSON object's exemplars in place."""
    if not isinstance(metric, dict):
        raise OTLPDecodeError(f"{where} must be a JSON object")
    for kind in _METRIC_DATA:
        data = metric.get(kind)
        if data is None:
            continue
        for n, point in enumerate(_items(data, "dataPoints", "data_points", f"{where}.{kind}")):
            point_where = f"{where}.{kind}.dataPoints[{n}]"
            for e, exemplar in enumerate(_items(point, "exemplars", "exemplars", point_where)):
                if not isinstance(exemplar, dict):
                    raise OTLPDecodeError(f"{point_where}.exemplars[{e}] must be a JSON object")
                _fix_ids(exemplar, f"{point_where}.exemplars[{e}]")


def decode_metrics(body: bytes, fmt: BodyFormat) -> list[MetricPoints]:
    """Decode an OTLP metrics export body (already decompressed) into the number of data
    points of each metric of each service (a metric without data points counts 0)."""
    request = parse_metrics_request(body, fmt)
    counted: dict[tuple[str, str], int] = {}
    for rm in request.resource_metrics:
        service = _service_of(flatten_attributes(rm.resource.attributes))
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                points = len(getattr(metric, kind).data_points) if kind else 0
                key = (service, metric.name)
                counted[key] = counted.get(key, 0) + points
    return [MetricPoints(service=s, name=n, points=p) for (s, n), p in counted.items()]
