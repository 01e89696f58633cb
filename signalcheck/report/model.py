"""What a game-day report shows, as typed data (times are unix seconds)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Phase(_Model):
    name: str
    start: float
    end: float


class FaultSpan(_Model):
    """A fault injected into a region and (maybe) cleared."""

    action: str
    region: str
    start: float
    end: float | None = None


class AlertSpan(_Model):
    """An alert seen firing for a region and (maybe) resolved."""

    alert: str
    region: str
    firing_at: float
    resolved_at: float | None = None


class LatencyPoint(_Model):
    """One probe result: how long a check took in a region."""

    region: str
    ts: float
    seconds: float


class ExpectationOutcome(_Model):
    name: str
    kind: str
    passed: bool
    time_to_appear: float | None = None
    """Measured: from the ledger's event to the arrival the backend recorded."""
    appeared_within: float | None = None
    """An upper bound ("present when we looked"), shown as "≤ N s", never judged late."""
    query: str = ""
    message: str = ""
    skipped: str | None = None
    """Why a conditional expectation was not judged (its actor was not planned)."""


class Detection(_Model):
    """How fast an expected alert followed its fault, beside the floor the config implies."""

    experiment: str
    alert: str
    region: str
    fault_start: float
    floor_seconds: float
    detected_at: float | None = None
    cleared_at: float | None = None
    resolved_at: float | None = None

    @property
    def time_to_detect(self) -> float | None:
        return None if self.detected_at is None else self.detected_at - self.fault_start

    @property
    def time_to_resolve(self) -> float | None:
        if self.resolved_at is None or self.cleared_at is None:
            return None
        return self.resolved_at - self.cleared_at


class VitalSummary(_Model):
    """A web vital over the run's RUM events."""

    name: str
    unit: str
    count: int
    p75: float
    good_share: float


class Sent(_Model):
    """What one phase of the game day sent to one region (or to every region: `*`)."""

    phase: str
    region: str
    what: str


class GamedayReport(_Model):
    title: str
    started: float
    ended: float
    phases: list[Phase] = []
    faults: list[FaultSpan] = []
    alerts: list[AlertSpan] = []
    latencies: list[LatencyPoint] = []
    expectations: list[ExpectationOutcome] = []
    detections: list[Detection] = []
    vitals: list[VitalSummary] = []
    sent: list[Sent] = []
    """What each phase sent to which regions: probe passes of which checks, the load (profile,
    and the user's locustfile or the shipped users), the experiments and background traffic."""
    problems: list[str] = []
    """Why the game day failed apart from its expectations: an actor that failed (a steady
    state not met, a planned fault not injected or not restored, a baseline probe that
    failed, a crossed load threshold) or an expectation the plan needs that skipped."""

    @property
    def passed(self) -> bool:
        expectations_ok = all(e.passed for e in self.expectations)
        detected = all(d.detected_at is not None for d in self.detections)
        return not self.problems and expectations_ok and detected
