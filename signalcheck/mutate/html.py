"""The coverage table as one self-contained HTML file (inline CSS, no network to open it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from signalcheck.mutate.coverage import CoverageReport

_env = Environment(
    loader=PackageLoader("signalcheck.mutate", "templates"),
    autoescape=select_autoescape(["html"]),
)


def render_html(report: CoverageReport) -> str:
    written = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return _env.get_template("coverage.html").render(report=report, written=written)


def write_html(report: CoverageReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report))
    return path
