"""The console summary printed at the end of a game day."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from signalcheck.report.html import format_seconds
from signalcheck.report.model import GamedayReport


def print_summary(report: GamedayReport, console: Console) -> None:
    phases = Table("phase", "duration", title="phases")
    for phase in report.phases:
        phases.add_row(phase.name, format_seconds(phase.end - phase.start))
    console.print(phases)

    detection = Table(
        "experiment",
        "alert",
        "region",
        "time to detect",
        "floor",
        "time to resolve",
        title="detection",
    )
    for d in report.detections:
        detected = format_seconds(d.time_to_detect) if d.detected_at else "[red]not detected"
        detection.add_row(
            d.experiment,
            d.alert,
            d.region,
            detected,
            format_seconds(d.floor_seconds),
            format_seconds(d.time_to_resolve),
        )
    console.print(detection)

    failed = [e for e in report.expectations if not e.passed]
    met = len(report.expectations) - len(failed)
    console.print(f"expectations: {met} of {len(report.expectations)} met")
    for outcome in failed:
        console.print(f"  [red]FAIL[/] {outcome.name}: {outcome.message}", highlight=False)
    verdict = "[green]PASSED" if report.passed else "[red]FAILED"
    console.print(f"game day {verdict}[/] in {report.ended - report.started:.0f}s")
