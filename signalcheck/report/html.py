"""`report.html`: one self-contained file (inline CSS and SVG, no network needed to open it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from signalcheck.report.model import ExpectationOutcome, GamedayReport
from signalcheck.report.timeline import render_timeline

_env = Environment(
    loader=PackageLoader("signalcheck.report", "templates"),
    autoescape=select_autoescape(["html"]),
)


def format_seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def format_timing(outcome: ExpectationOutcome) -> str:
    """The measured time to appear, else its upper bound as "≤ N s", else "—"."""
    if outcome.time_to_appear is not None:
        return format_seconds(outcome.time_to_appear)
    if outcome.appeared_within is not None:
        return f"≤ {format_seconds(outcome.appeared_within)}"
    return "—"


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def render_html(report: GamedayReport) -> str:
    return _env.get_template("report.html").render(
        report=report,
        timeline=render_timeline(report),
        started=_utc(report.started),
        ended=_utc(report.ended),
        passed_count=sum(e.passed and not e.skipped for e in report.expectations),
        judged_count=sum(not e.skipped for e in report.expectations),
        detected_count=sum(d.detected_at is not None for d in report.detections),
        seconds=format_seconds,
        timing=format_timing,
    )


def write_html(report: GamedayReport, path: Path) -> Path:
    path.write_text(render_html(report), encoding="utf-8")
    return path
