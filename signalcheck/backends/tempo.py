"""Grafana Tempo HTTP API: trace by id (v2 with fallback to v1) and TraceQL search.

v2 (`/api/v2/traces/<id>`, Tempo 2.6+) answers `{"trace": {"resourceSpans": [...]}}`, with
`"status": "PARTIAL"` and a `message` when the trace was cut (too large, filtered, pruned);
v1 (`/api/traces/<id>`) answers `{"batches": [...]}` (or `resourceSpans`). With
`api_version: auto` a 404 from v2 that is a missing endpoint (Go's plain "404 page not
found", or an HTML page of a proxy) switches this client to v1 for good; Tempo's own "trace
not found" is a 404 with an empty (or JSON) body and means only that.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

import httpx

from signalcheck.backends.base import BackendClient, JsonObject
from signalcheck.backends.spans import FetchedTrace, OtlpResourceSpans, Span, otlp_spans
from signalcheck.config import Backend, TempoBackend

PATHS = {"v2": "/api/v2/traces", "v1": "/api/traces"}


class OtlpTrace(TypedDict):
    resourceSpans: NotRequired[list[OtlpResourceSpans]]


class TraceBody(TypedDict):
    """A trace by id: v2's `trace` (with `status` and `message`), v1's `batches` (or
    `resourceSpans`)."""

    trace: NotRequired[OtlpTrace | None]
    status: NotRequired[str]
    message: NotRequired[str]
    batches: NotRequired[list[OtlpResourceSpans]]
    resourceSpans: NotRequired[list[OtlpResourceSpans]]


class SpanSet(TypedDict):
    spans: list[JsonObject]
    matched: int


class TraceSummary(TypedDict):
    """One trace of a TraceQL search."""

    traceID: str
    rootServiceName: NotRequired[str]
    rootTraceName: NotRequired[str]
    startTimeUnixNano: str
    durationMs: NotRequired[int]
    spanSet: NotRequired[SpanSet]
    spanSets: NotRequired[list[SpanSet]]


def endpoint_missing(response: httpx.Response) -> bool:
    """Whether a 404 says the path does not exist (not that the trace does not): a non-empty
    body that is neither JSON nor mentions a trace."""
    text = response.text.strip()
    if not text or "trace" in text.lower():
        return False
    try:
        response.json()
    except ValueError:
        return True
    return False


def partial_reason(body: TraceBody) -> str:
    """Why Tempo says the trace it returned is not the whole trace ("" when it is whole)."""
    if str(body.get("status", "")).upper() != "PARTIAL":
        return ""
    return f"Tempo answered status PARTIAL: {body.get('message') or 'no message given'}"


class TempoClient(BackendClient):
    name = "tempo"
    health_path = "/api/echo"

    def __init__(self, backend: Backend, *, retries: int | None = None, backoff: float = 0.2):
        super().__init__(backend, retries=retries, backoff=backoff)
        self.api_version = backend.api_version if isinstance(backend, TempoBackend) else "auto"
        """auto, v2 or v1; auto becomes v1 once v2 turns out to be missing."""

    def check_reachable(self) -> None:
        """`/api/echo` answers plain text ("echo"), not JSON."""
        response = self.request("GET", self.health_path)
        if response.is_error:
            self.decode(response)

    def trace_body(
        self, trace_id: str, start: float | None = None, end: float | None = None
    ) -> TraceBody | None:
        """The raw JSON of one trace, or None while Tempo does not have it."""
        params = {
            key: int(value) for key, value in (("start", start), ("end", end)) if value is not None
        }
        if self.api_version != "v1":
            response = self._get(PATHS["v2"], trace_id, params)
            if not (
                response.status_code == 404
                and self.api_version == "auto"
                and endpoint_missing(response)
            ):
                return self._body(response)
            self.api_version = "v1"
        return self._body(self._get(PATHS["v1"], trace_id, params))

    def _body(self, response: httpx.Response) -> TraceBody | None:
        if response.status_code == 404:
            return None
        body: TraceBody = self.decode(response)
        return body

    def _get(self, prefix: str, trace_id: str, params: dict[str, int]) -> httpx.Response:
        return self.request(
            "GET", f"{prefix}/{trace_id}", params=params, headers={"Accept": "application/json"}
        )

    def fetch_trace(self, trace_id: str) -> FetchedTrace:
        """The spans of one trace in the common span shape (none while none has arrived), and
        Tempo's PARTIAL status with its message."""
        body = self.trace_body(trace_id)
        if not body:
            return FetchedTrace()
        resource_spans = (
            (body.get("trace") or {}).get("resourceSpans")
            or body.get("batches")
            or body.get("resourceSpans")
            or []
        )
        return FetchedTrace(otlp_spans(resource_spans), partial_reason(body))

    def trace(self, trace_id: str) -> list[Span]:
        """The spans of one trace in the common span shape; empty while none has arrived."""
        return self.fetch_trace(trace_id).spans

    def search(
        self,
        traceql: str,
        start: float | None = None,
        end: float | None = None,
        limit: int = 20,
        spss: int | None = None,
    ) -> list[TraceSummary]:
        """Traces matching a TraceQL query: `traceID`, `rootServiceName`, `rootTraceName`,
        `startTimeUnixNano`, `durationMs` and the matching `spanSets`."""
        body = self.get_json(
            "/api/search",
            q=traceql,
            start=None if start is None else int(start),
            end=None if end is None else int(end),
            limit=limit,
            spss=spss,
        )
        traces: list[TraceSummary] = body.get("traces") or []
        return traces
