"""Loki HTTP API: LogQL over `/loki/api/v1/query_range` and `/loki/api/v1/query`.

Times go to Loki as integer nanoseconds since the epoch; results are `streams` (log lines)
or `matrix` / `vector` (metric queries such as `count_over_time`). A log query's answer holds
at most `limit` lines: `lines` pages through a longer one and never returns a cut result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypedDict

from signalcheck.backends.base import BackendClient, QueryValue
from signalcheck.backends.prometheus import MatrixData, VectorData
from signalcheck.errors import BackendError, LokiTruncated

Direction = Literal["forward", "backward"]
LineKey = tuple[tuple[tuple[str, str], ...], int, str]


class EntryMetadata(TypedDict, total=False):
    """The third element of an entry in the `categorize-labels` encoding."""

    structuredMetadata: dict[str, str]
    parsed: dict[str, str]


StreamEntry = tuple[str, str] | tuple[str, str, EntryMetadata]
"""`["<unix ns>", "<line>"]`, or with the entry's metadata (`categorize-labels`)."""


class Stream(TypedDict):
    stream: dict[str, str]
    values: list[StreamEntry]


class StreamsData(TypedDict):
    resultType: Literal["streams"]
    result: list[Stream]


QueryData = StreamsData | MatrixData | VectorData
"""The `data` of a query: log lines as `streams`, a metric query's samples as Prometheus'."""


@dataclass(frozen=True)
class LogLine:
    """One log line of a stream: its labels, its time (integer nanoseconds) and the raw line,
    with the entry's structured metadata and parsed labels when Loki sends them apart (the
    `categorize-labels` encoding)."""

    labels: dict[str, str]
    ns: int
    line: str
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def time(self) -> float:
        """Unix seconds."""
        return self.ns / 1e9

    def key(self) -> LineKey:
        return tuple(sorted(self.labels.items())), self.ns, self.line


def to_nanoseconds(seconds: float) -> int:
    """Unix seconds as integer nanoseconds, exact for the decimal digits given."""
    return int(Decimal(repr(seconds)) * 1_000_000_000)


def _metadata(extra: list[EntryMetadata]) -> dict[str, str]:
    """The third element of a categorized entry: `structuredMetadata` and `parsed` merged."""
    if not extra or not isinstance(extra[0], dict):
        return {}
    return {**extra[0].get("structuredMetadata", {}), **extra[0].get("parsed", {})}


def log_lines(data: QueryData) -> list[LogLine]:
    """The lines of a `streams` result, oldest first."""
    if data["resultType"] != "streams":
        raise BackendError(f"loki: expected a streams result, got {data['resultType']}")
    lines = [
        LogLine(labels=stream["stream"], ns=int(ns), line=line, metadata=_metadata(extra))
        for stream in data["result"]
        for ns, line, *extra in stream["values"]
    ]
    return sorted(lines, key=lambda item: item.ns)


class LokiClient(BackendClient):
    name = "loki"
    health_path = "/loki/api/v1/labels"

    def _data(self, path: str, **params: QueryValue) -> QueryData:
        body = self.get_json(path, **params)
        if not isinstance(body, dict) or body.get("status") != "success":
            raise BackendError(f"loki: {path} answered {body}")
        data: QueryData = body["data"]
        return data

    def query_range(
        self,
        logql: str,
        start: float,
        end: float,
        *,
        limit: int = 1000,
        direction: Direction = "forward",
        step: float | None = None,
    ) -> QueryData:
        """`data` of a range query: `resultType` streams or matrix, and `result`.

        `start` and `end` are unix seconds, sent as nanoseconds."""
        return self._range(
            logql, to_nanoseconds(start), to_nanoseconds(end), limit, direction, step
        )

    def _range(
        self,
        logql: str,
        start_ns: int,
        end_ns: int,
        limit: int,
        direction: Direction = "forward",
        step: float | None = None,
    ) -> QueryData:
        return self._data(
            "/loki/api/v1/query_range",
            query=logql,
            start=start_ns,
            end=end_ns,
            limit=limit,
            direction=direction,
            step=step,
        )

    def query(
        self,
        logql: str,
        time: float | None = None,
        *,
        limit: int = 1000,
        direction: Direction = "backward",
    ) -> QueryData:
        """`data` of an instant query (vector or streams) at `time` (unix seconds)."""
        return self._data(
            "/loki/api/v1/query",
            query=logql,
            time=None if time is None else to_nanoseconds(time),
            limit=limit,
            direction=direction,
        )

    def lines(
        self,
        logql: str,
        start: float,
        end: float,
        *,
        limit: int = 1000,
        max_pages: int = 50,
        deadline: float | None = None,
    ) -> list[LogLine]:
        """Every log line a LogQL log query selects between `start` and `end`, oldest first.

        A page of `limit` lines may be cut: the next page starts at its last timestamp (Loki's
        `start` is inclusive, so the lines already seen there are dropped). `LokiTruncated`
        when the answer is still cut after `max_pages` pages or at `deadline`
        (`time.monotonic()`), or when more than `limit` lines share one nanosecond."""
        seen: set[LineKey] = set()
        found: list[LogLine] = []
        page_start, end_ns = to_nanoseconds(start), to_nanoseconds(end)
        for page in range(1, max_pages + 1):
            batch = log_lines(self._range(logql, page_start, end_ns, limit))
            new = [line for line in batch if line.key() not in seen]
            seen.update(line.key() for line in batch)
            found.extend(new)
            if len(batch) < limit:
                return found
            cut = f"loki: {logql!r} from {page_start} to {end_ns} ns was cut at limit={limit}"
            if not new:
                raise LokiTruncated(f"{cut}: more than {limit} lines share timestamp {page_start}")
            if deadline is not None and time.monotonic() >= deadline:
                raise LokiTruncated(f"{cut} on page {page} when the deadline passed")
            page_start = batch[-1].ns
        raise LokiTruncated(
            f"loki: {logql!r} still cut at limit={limit} after {max_pages} pages "
            f"({len(found)} lines): narrow the query or the window"
        )
