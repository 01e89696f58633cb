"""W3C trace context for probe requests: one fresh trace id per check run."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

CHECK_HEADER = "X-Signalcheck-Check"


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    check: str

    @classmethod
    def fresh(cls, check: str) -> TraceContext:
        return cls(trace_id=secrets.token_hex(16), check=check)

    def traceparent(self) -> str:
        """A `traceparent` value for one request: this trace, a new parent span, sampled."""
        return f"00-{self.trace_id}-{secrets.token_hex(8)}-01"

    def headers(self) -> dict[str, str]:
        return {"traceparent": self.traceparent(), CHECK_HEADER: self.check}
