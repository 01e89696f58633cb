"""The console summary printed at the end of a game day."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from signalcheck.report.html import format_seconds
from signalcheck.report.model import GamedayReport


def print_summary(report: GamedayReport, console: Console) -> None:
    phases = Table("phase", "duration", title="phases")
    for phase in report.phases:
        phases.add_row(phase.name, format_seconds(phase.end - phase.start))
    console.print(phases)

    sent = Table("phase", "region", "sent", title="what each phase sent")
    for row in report.sent:
        sent.add_row(row.phase, "every region" if row.region == "*" else row.region, row.what)
    console.print(sent)

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

    judged = [e for e in report.expectations if not e.skipped]
    failed = [e for e in judged if not e.passed]
    skipped = len(report.expectations) - len(judged)
    console.print(
        f"expectations: {len(judged) - len(failed)} of {len(judged)} met"
        + (f", {skipped} skipped (conditional, not planned)" if skipped else "")
    )
    for outcome in failed:
        console.print(
            f"  [red]FAIL[/] {escape(outcome.name)}: {escape(outcome.message)}", highlight=False
        )
    for problem in report.problems:
        console.print(
            f"  [red]FAILED BECAUSE[/] {escape(problem)}", highlight=False, soft_wrap=True
        )
    verdict = "[green]PASSED" if report.passed else "[red]FAILED"
    console.print(f"game day {verdict}[/] in {report.ended - report.started:.0f}s")
