"""The span shape every trace client returns: the capture receiver's span JSON.

`trace_id`, `span_id`, `parent_span_id` (lower-case hex, "" for a root span), `service`,
`name`, `kind` (SERVER, CLIENT, INTERNAL, ...), `start_time`, `end_time` (unix seconds),
`status_code` (UNSET, OK or ERROR), `attributes` and `resource` (flat dicts).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import NotRequired, Protocol, TypedDict, runtime_checkable

from signalcheck.backends.base import JsonObject, JsonValue

_HEX = re.compile(r"^[0-9a-fA-F]+$")


class Span(TypedDict):
    """One span in the common shape (see the module docstring)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    """"" (or None, from the capture receiver) for a root span."""
    service: str
    name: str
    kind: str
    start_time: float
    end_time: float
    status_code: str
    attributes: JsonObject
    resource: JsonObject
    received_at: NotRequired[float | None]
    """When the capture receiver stored it (unix seconds); absent from Tempo and Jaeger."""


class OtlpKeyValue(TypedDict):
    """An OTLP-JSON attribute: `{"key": "http.route", "value": {"stringValue": "/x"}}`."""

    key: str
    value: NotRequired[OtlpAnyValue]


class OtlpArrayValue(TypedDict, total=False):
    values: list[OtlpAnyValue]


class OtlpKeyValueList(TypedDict, total=False):
    values: list[OtlpKeyValue]


class OtlpAnyValue(TypedDict, total=False):
    """One of its keys set; `intValue` a string (int64 in proto3 JSON) or a number."""

    stringValue: str
    boolValue: bool
    intValue: str | int
    doubleValue: float
    arrayValue: OtlpArrayValue
    kvlistValue: OtlpKeyValueList
    bytesValue: str


class OtlpStatus(TypedDict, total=False):
    code: str | int
    message: str


class OtlpSpan(TypedDict, total=False):
    """A span of OTLP JSON: ids hex (the spec) or base64 (Tempo), nanoseconds as strings,
    `kind` and `status.code` as enum names or numbers."""

    traceId: str
    spanId: str
    parentSpanId: str
    name: str
    kind: str | int
    startTimeUnixNano: str | int
    endTimeUnixNano: str | int
    attributes: list[OtlpKeyValue]
    status: OtlpStatus


class OtlpScopeSpans(TypedDict, total=False):
    spans: list[OtlpSpan]


class OtlpResource(TypedDict, total=False):
    attributes: list[OtlpKeyValue]


class OtlpResourceSpans(TypedDict, total=False):
    """One `resourceSpans` item; `instrumentationLibrarySpans` is the pre-1.0 name of
    `scopeSpans` (Tempo's older `batches`)."""

    resource: OtlpResource
    scopeSpans: list[OtlpScopeSpans]
    instrumentationLibrarySpans: list[OtlpScopeSpans]


@dataclass(frozen=True)
class FetchedTrace:
    """One trace as a backend answered it: its spans, and why the backend itself says it is
    not the whole trace ("" when it does not, e.g. Tempo's `status: PARTIAL` and `message`)."""

    spans: list[Span] = field(default_factory=list)
    partial: str = ""


@runtime_checkable
class TraceSource(Protocol):
    """A backend that answers a trace by its id (Tempo, Jaeger, the capture receiver)."""

    last_request: str

    def fetch_trace(self, trace_id: str) -> FetchedTrace: ...


def hex_id(value: str | None, length: int) -> str:
    """An OTLP-JSON id as lower-case hex: Tempo sends base64, the OTLP spec hex."""
    if not value:
        return ""
    if len(value) == length and _HEX.match(value):
        return value.lower()
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return value.lower()


def otlp_value(value: OtlpAnyValue) -> JsonValue:
    """The Python value of an OTLP-JSON AnyValue."""
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "doubleValue" in value:
        return value["doubleValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [otlp_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return otlp_attributes(value["kvlistValue"].get("values", []))
    return None


def otlp_attributes(items: list[OtlpKeyValue] | None) -> JsonObject:
    return {item["key"]: otlp_value(item.get("value", {})) for item in items or []}


def _enum(value: str | int | None, prefix: str, names: tuple[str, ...]) -> str:
    """OTLP-JSON enums arrive as names ("SPAN_KIND_SERVER") or numbers (2)."""
    if isinstance(value, int):
        return names[value] if 0 <= value < len(names) else str(value)
    text = str(value or names[0])
    return text.removeprefix(prefix)


_KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
_STATUS = ("UNSET", "OK", "ERROR")


def otlp_spans(resource_spans: list[OtlpResourceSpans]) -> list[Span]:
    """Flatten OTLP-JSON `resourceSpans` (or Tempo's older `batches`) into spans."""
    spans: list[Span] = []
    for batch in resource_spans:
        resource = otlp_attributes(batch.get("resource", {}).get("attributes"))
        scopes = batch.get("scopeSpans") or batch.get("instrumentationLibrarySpans") or []
        for scope in scopes:
            for span in scope.get("spans", []):
                spans.append(
                    {
                        "trace_id": hex_id(span.get("traceId"), 32),
                        "span_id": hex_id(span.get("spanId"), 16),
                        "parent_span_id": hex_id(span.get("parentSpanId"), 16),
                        "service": str(resource.get("service.name", "")),
                        "name": span.get("name", ""),
                        "kind": _enum(span.get("kind"), "SPAN_KIND_", _KINDS),
                        "start_time": int(span.get("startTimeUnixNano", 0)) / 1e9,
                        "end_time": int(span.get("endTimeUnixNano", 0)) / 1e9,
                        "status_code": _enum(
                            span.get("status", {}).get("code"), "STATUS_CODE_", _STATUS
                        ),
                        "attributes": otlp_attributes(span.get("attributes")),
                        "resource": resource,
                    }
                )
    return spans
