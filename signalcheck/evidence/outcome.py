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
    """Seconds from the ledger's event to the arrival the backend itself recorded (the
    capture receiver's receive time, the first sample of an increase, an alert's activeAt,
    the Pushgateway's push time)."""
    appeared_within: float | None = None
    """Where no arrival record exists: the evidence was there this many seconds after the
    ledger's event, when the validator looked (an upper bound, never held against a budget)."""
    skipped: str | None = None
    """Set only for a conditional expectation whose actor this run did not plan."""
    error: str | None = None
    """Set when the expectation could not be judged (a backend unavailable or answering an
    error, a setting it needs unreadable): not passed, yet no verdict on the system either;
    `summary` says why."""

    @classmethod
    def nothing_to_judge(cls, reason: str) -> Outcome:
        """No evidence of this run to judge: a failure, naming the actor that left none."""
        return cls(passed=False, summary=f"nothing to judge: {reason}")

    @classmethod
    def not_judged(cls, reason: str) -> Outcome:
        """The expectation could not be judged: an error, never a pass nor a failure."""
        return cls(passed=False, summary=f"could not be judged: {reason}", error=reason)

    @classmethod
    def not_planned(cls, reason: str) -> Outcome:
        """A conditional expectation whose actor this run did not plan: the one skip."""
        return cls(passed=True, summary=reason, skipped=reason)

    def timing(self) -> str:
        """'12.3s' when measured from the backend's arrival record, '≤ 12.3s' when an upper
        bound, '' when neither is known."""
        if self.time_to_appear is not None:
            return f"{self.time_to_appear:.1f}s"
        if self.appeared_within is not None:
            return f"≤ {self.appeared_within:.1f}s"
        return ""

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


def late(what: str, arrived: float, budget: float) -> str:
    """The problem of evidence that arrived, but after its budget ('' when in time)."""
    if arrived <= budget:
        return ""
    return f"{what} arrived {arrived:.1f}s after the event, past the {budget:g}s budget"
