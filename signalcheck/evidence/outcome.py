"""What one check found: the verdict, the exact query, what came back and the time it took."""

from __future__ import annotations

from dataclasses import dataclass

MAX_OBSERVED_CHARS = 1500


@dataclass(frozen=True)
class Outcome:
    passed: bool
    summary: str
    """One line: what was found, or what is wrong and where to look."""
    query: str = ""
    """The exact query (or queries) sent to the backend."""
    observed: str = ""
    """What came back, summarised."""
    waited: float = 0.0
    """Seconds this check spent polling."""
    time_to_appear: float | None = None
    """Seconds from the ledger's event to the moment the evidence was seen complete (an
    upper bound when it was already there at the first look)."""
    skipped: str | None = None
    """Set when the ledger holds nothing this expectation applies to."""

    @classmethod
    def skip(cls, reason: str) -> Outcome:
        return cls(passed=True, summary=reason, skipped=reason)

    def report(self, expectation: str) -> str:
        """The failure message: expectation, cause, query, answer, wait."""
        observed = self.observed
        if len(observed) > MAX_OBSERVED_CHARS:
            observed = observed[:MAX_OBSERVED_CHARS] + " ..."
        lines = [
            f"expectation: {expectation}",
            f"problem:     {self.summary}",
            f"query:       {self.query or '(none sent)'}",
            f"got:         {observed or '(nothing)'}",
            f"waited:      {self.waited:.1f}s",
        ]
        return "\n".join(lines)
