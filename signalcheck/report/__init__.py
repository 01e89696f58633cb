"""Game-day reports: console summary, self-contained HTML with a timeline, JUnit XML."""

from signalcheck.report.model import (
    AlertSpan,
    Detection,
    ExpectationOutcome,
    FaultSpan,
    GamedayReport,
    LatencyPoint,
    Phase,
    Sent,
    VitalSummary,
)

__all__ = [
    "AlertSpan",
    "Detection",
    "ExpectationOutcome",
    "FaultSpan",
    "GamedayReport",
    "LatencyPoint",
    "Phase",
    "Sent",
    "VitalSummary",
]
