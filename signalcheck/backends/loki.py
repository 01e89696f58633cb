"""Loki HTTP API: LogQL over `/loki/api/v1/query_range` and `/loki/api/v1/query`.

Times go to Loki as integer nanoseconds since the epoch; results are `streams` (log lines)
or `matrix` / `vector` (metric queries such as `count_over_time`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from signalcheck.backends.base import BackendClient, BackendError

Direction = Literal["forward", "backward"]


@dataclass(frozen=True)
class LogLine:
    """One log line of a stream: its labels, its time (unix seconds) and the raw line."""

    labels: dict[str, str]
    time: float
    line: str


def to_nanoseconds(seconds: float) -> int:
    """Unix seconds as integer nanoseconds, exact for the decimal digits given."""
    return int(Decimal(repr(seconds)) * 1_000_000_000)


def log_lines(data: dict[str, Any]) -> list[LogLine]:
    """The lines of a `streams` result, oldest first."""
    if data.get("resultType") != "streams":
        raise BackendError(f"loki: expected a streams result, got {data.get('resultType')}")
    lines = [
        LogLine(labels=stream["stream"], time=int(ns) / 1e9, line=line)
        for stream in data["result"]
        for ns, line, *_ in stream["values"]
    ]
    return sorted(lines, key=lambda item: item.time)


class LokiClient(BackendClient):
    name = "loki"
    health_path = "/loki/api/v1/labels"

    def _data(self, path: str, **params: Any) -> dict[str, Any]:
        body = self.get_json(path, **params)
        if not isinstance(body, dict) or body.get("status") != "success":
            raise BackendError(f"loki: {path} answered {body}")
        return body["data"]

    def query_range(
        self,
        logql: str,
        start: float,
        end: float,
        *,
        limit: int = 1000,
        direction: Direction = "forward",
        step: float | None = None,
    ) -> dict[str, Any]:
        """`data` of a range query: `resultType` streams or matrix, and `result`.

        `start` and `end` are unix seconds, sent as nanoseconds."""
        return self._data(
            "/loki/api/v1/query_range",
            query=logql,
            start=to_nanoseconds(start),
            end=to_nanoseconds(end),
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
    ) -> dict[str, Any]:
        """`data` of an instant query (vector or streams) at `time` (unix seconds)."""
        return self._data(
            "/loki/api/v1/query",
            query=logql,
            time=None if time is None else to_nanoseconds(time),
            limit=limit,
            direction=direction,
        )

    def lines(self, logql: str, start: float, end: float, *, limit: int = 1000) -> list[LogLine]:
        """The log lines a LogQL log query selects between `start` and `end`, oldest first."""
        return log_lines(self.query_range(logql, start, end, limit=limit))
