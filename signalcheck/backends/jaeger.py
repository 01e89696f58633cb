"""Jaeger query service HTTP API: trace by id over api_v3 (OTLP JSON) or the classic JSON API.

`/api/v3/traces/{id}` answers `{"result": {"resourceSpans": [...]}}` (OTLP JSON with hex ids;
Jaeger before the grpc-gateway wrapper sent the `resourceSpans` unwrapped) and a missing trace
as 404 `{"error": {"httpCode": 404, "message": ...}}`. `/api/traces/{id}` answers `{"data":
[{"traceID", "spans", "processes"}]}`. With `api_version: auto` v3 is asked first; a v3 that is
not there (a 404 or 2xx that is not Jaeger's JSON) switches this client to the classic API.
The health check asks the trace endpoint for a trace id that does not exist: Jaeger main has
removed `/api/services`, and the trace endpoint is all the checks need.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

import httpx

from signalcheck.backends.base import BackendClient, JsonObject, JsonValue, QueryValue, cause_chain
from signalcheck.backends.spans import FetchedTrace, OtlpResourceSpans, Span, otlp_spans
from signalcheck.config import Backend, JaegerBackend
from signalcheck.errors import BackendError

PATHS = {"v3": "/api/v3/traces", "v1": "/api/traces"}
PROBE_TRACE_ID = "00000000000000000000000000000001"
"""A trace id no tracer generates, asked for by the health check."""


class KeyValue(TypedDict):
    """A tag: `type` string, bool, int64, float64 or binary, and its `value`."""

    key: str
    type: NotRequired[str]
    value: NotRequired[JsonValue]


class Reference(TypedDict):
    refType: Literal["CHILD_OF", "FOLLOWS_FROM"]
    traceID: str
    spanID: str


class JaegerSpan(TypedDict):
    """A span of the classic JSON API; times in microseconds."""

    traceID: str
    spanID: str
    operationName: NotRequired[str]
    references: NotRequired[list[Reference] | None]
    startTime: NotRequired[int]
    duration: NotRequired[int]
    tags: NotRequired[list[KeyValue] | None]
    processID: NotRequired[str]


class Process(TypedDict):
    serviceName: str
    tags: NotRequired[list[KeyValue] | None]


class JaegerTrace(TypedDict):
    """One item of the classic API's `data`."""

    traceID: str
    spans: list[JaegerSpan]
    processes: dict[str, Process]


class TraceResult(TypedDict):
    """api_v3's answer (its `result`, or the whole body before the grpc-gateway wrapper)."""

    resourceSpans: NotRequired[list[OtlpResourceSpans]]


class V3Answer(TraceResult):
    result: NotRequired[TraceResult]


class V1Answer(TypedDict):
    data: NotRequired[list[JaegerTrace] | None]


def _tags(items: list[KeyValue] | None) -> JsonObject:
    return {item["key"]: item.get("value") for item in items or []}


def _status(tags: JsonObject) -> str:
    if tags.get("error") in (True, "true") or tags.get("otel.status_code") == "ERROR":
        return "ERROR"
    return "OK" if tags.get("otel.status_code") == "OK" else "UNSET"


def _same_trace(a: str, b: str) -> bool:
    return a.lower().lstrip("0") == b.lower().lstrip("0")


def parent_span_id(span: JaegerSpan) -> str:
    """Jaeger's rule (model/span.go `ParentSpanID`): the first CHILD_OF reference into the
    span's own trace, else the first FOLLOWS_FROM one into it; a reference into another trace
    is never the parent ("" for a root)."""
    own = [
        ref
        for ref in span.get("references") or []
        if _same_trace(str(ref.get("traceID", "")), str(span.get("traceID", "")))
    ]
    for kind in ("CHILD_OF", "FOLLOWS_FROM"):
        parent = next((ref["spanID"] for ref in own if ref.get("refType") == kind), None)
        if parent is not None:
            return str(parent)
    return ""


def jaeger_spans(trace: JaegerTrace) -> list[Span]:
    """One Jaeger trace (`traceID`, `spans`, `processes`) in the common span shape."""
    processes = trace.get("processes", {})
    spans: list[Span] = []
    for span in trace.get("spans", []):
        tags = _tags(span.get("tags"))
        process = processes.get(span.get("processID", ""), {"serviceName": ""})
        start = span.get("startTime", 0) / 1e6
        spans.append(
            {
                "trace_id": span["traceID"].rjust(32, "0"),
                "span_id": span["spanID"],
                "parent_span_id": parent_span_id(span),
                "service": process.get("serviceName", ""),
                "name": span.get("operationName", ""),
                "kind": str(tags.get("span.kind", "internal")).upper(),
                "start_time": start,
                "end_time": start + span.get("duration", 0) / 1e6,
                "status_code": _status(tags),
                "attributes": tags,
                "resource": _tags(process.get("tags")),
            }
        )
    return spans


def _json(response: httpx.Response) -> JsonValue:
    try:
        body: JsonValue = response.json()
        return body
    except ValueError:
        return None


def is_jaeger_answer(version: str, response: httpx.Response) -> bool:
    """Whether `response` is a 200 or 404 of Jaeger's trace API of `version` (not of a server
    or proxy that lacks it)."""
    if response.status_code not in (200, 404):
        return False
    body = _json(response)
    if not isinstance(body, dict):
        return False
    if version == "v3":
        return "result" in body or "resourceSpans" in body or isinstance(body.get("error"), dict)
    return "data" in body or "errors" in body


class JaegerClient(BackendClient):
    name = "jaeger"
    health_path = f"{PATHS['v3']}/{PROBE_TRACE_ID}"

    def __init__(self, backend: Backend, *, retries: int | None = None, backoff: float = 0.2):
        super().__init__(backend, retries=retries, backoff=backoff)
        self.api_version = backend.api_version if isinstance(backend, JaegerBackend) else "auto"
        """auto, v3 or v1; auto becomes v1 once v3 turns out to be missing."""

    def _versions(self) -> list[str]:
        return {"auto": ["v3", "v1"], "v3": ["v3"], "v1": ["v1"]}[self.api_version]

    def check_reachable(self) -> None:
        """One request per API version to the trace endpoint, no retries: reachable when one
        answers like Jaeger (a trace or Jaeger's "not found")."""
        seen = []
        for version in self._versions():
            path = f"{PATHS[version]}/{PROBE_TRACE_ID}"
            try:
                response = self._http.get(path)
            except httpx.TransportError as exc:
                raise BackendError(
                    f"jaeger at {self.backend.base_url} is unreachable: {cause_chain(exc)}"
                ) from None
            if is_jaeger_answer(version, response):
                if version == "v1" and self.api_version == "auto":
                    self.api_version = "v1"
                return
            seen.append(f"GET {path} returned {response.status_code}: {response.text[:120]!r}")
        raise BackendError(
            f"jaeger at {self.backend.base_url} does not answer like Jaeger's trace API: "
            + "; ".join(seen)
        )

    def fetch_trace(self, trace_id: str) -> FetchedTrace:
        """The spans of one trace in the common span shape; none while none has arrived."""
        if self.api_version != "v1":
            response = self.request("GET", f"{PATHS['v3']}/{trace_id}")
            if self.api_version == "v3" or is_jaeger_answer("v3", response):
                return self._read("v3", response)
            self.api_version = "v1"
        return self._read("v1", self.request("GET", f"{PATHS['v1']}/{trace_id}"))

    def _read(self, version: str, response: httpx.Response) -> FetchedTrace:
        if response.status_code == 404:
            return FetchedTrace()
        if version == "v3":
            answer: V3Answer = self.decode(response)
            result = answer.get("result") or answer
            return FetchedTrace(otlp_spans(result.get("resourceSpans") or []))
        body: V1Answer = self.decode(response)
        data = body.get("data") or []
        return FetchedTrace(jaeger_spans(data[0]) if data else [])

    def trace(self, trace_id: str) -> list[Span]:
        """The spans of one trace in the common span shape; empty while none has arrived."""
        return self.fetch_trace(trace_id).spans

    def _names(self, path: str, **params: QueryValue) -> list[str]:
        """The `data` of a classic API answer that lists names."""
        body = self.get_json(path, **params)
        if not isinstance(body, dict) or body.get("errors"):
            raise BackendError(f"jaeger: {path} answered {body}")
        names: list[str] = body.get("data") or []
        return names

    def services(self) -> list[str]:
        return self._names("/api/services")

    def operations(self, service: str) -> list[str]:
        return self._names(f"/api/services/{service}/operations")
