"""The game-day timeline as an inline SVG: phases, faults and alerts per region, and each
probe result's duration as a dot per region."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from signalcheck.report.model import GamedayReport

WIDTH = 1100
LABEL_WIDTH = 170
ROW_HEIGHT = 22
LATENCY_HEIGHT = 150
PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")
FAULT_COLOUR = "#d62728"
ALERT_COLOUR = "#ff7f0e"
PHASE_COLOURS = ("#eef3fb", "#f6f6f6")


def render_timeline(report: GamedayReport) -> str:
    """An <svg> element showing the whole run on one time axis."""
    span = max(report.ended - report.started, 1.0)
    plot_width = WIDTH - LABEL_WIDTH - 20

    def x(ts: float) -> float:
        clamped = min(max(ts, report.started), report.ended)
        return LABEL_WIDTH + (clamped - report.started) / span * plot_width

    def bar(
        start: float,
        end: float | None,
        y: int,
        colour: str,
        label: str,
        title: str,
        text_colour: str,
    ) -> list[str]:
        """A bar from `start` to `end` (or the end of the run), labelled and titled."""
        end = end or report.ended
        return [
            _rect(x(start), y, max(x(end) - x(start), 2), ROW_HEIGHT, colour,
                  f"{title}: {end - start:.1f}s"),
            _text(x(start) + 3, y + 15, label, size=10, colour=text_colour),
        ]  # fmt: skip

    regions = sorted(
        {f.region for f in report.faults}
        | {a.region for a in report.alerts}
        | {p.region for p in report.latencies}
    )
    parts: list[str] = []
    y = 24
    for index, phase in enumerate(report.phases):
        parts.append(
            _rect(
                x(phase.start),
                y,
                x(phase.end) - x(phase.start),
                ROW_HEIGHT,
                PHASE_COLOURS[index % 2],
                f"{phase.name}: {phase.end - phase.start:.0f}s",
            )
        )
        parts.append(_text(x(phase.start) + 4, y + 15, phase.name, size=11))
    parts.append(_text(8, y + 15, "phases", bold=True))
    y += ROW_HEIGHT + 10

    for region in regions:
        parts.append(_text(8, y + 15, f"{region} faults", bold=True))
        for fault in (f for f in report.faults if f.region == region):
            parts += bar(fault.start, fault.end, y, FAULT_COLOUR, fault.action,
                         f"{fault.action} in {region}", "#fff")  # fmt: skip
        y += ROW_HEIGHT + 2
        parts.append(_text(8, y + 15, f"{region} alerts", bold=True))
        for alert in (a for a in report.alerts if a.region == region):
            parts += bar(alert.firing_at, alert.resolved_at, y, ALERT_COLOUR, alert.alert,
                         f"{alert.alert} for {region}", "#222")  # fmt: skip
        y += ROW_HEIGHT + 10

    y = _latency_panel(report, regions, x, y, parts)
    y = _time_axis(report, span, x, y, parts)
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{WIDTH}" '
        f'height="{y + 10}" viewBox="0 0 {WIDTH} {y + 10}" font-family="sans-serif">\n'
        f"{body}\n</svg>"
    )


def _latency_panel(report, regions, x, y: int, parts: list[str]) -> int:
    points = report.latencies
    if not points:
        return y
    top = y + 10
    peak = max(p.seconds for p in points) or 1.0
    parts.append(_text(8, top + 12, "probe latency", bold=True))
    parts.append(_text(8, top + 28, f"max {peak * 1000:.0f} ms", size=10))
    bottom = top + LATENCY_HEIGHT
    parts.append(
        f'<line x1="{LABEL_WIDTH}" y1="{bottom}" x2="{WIDTH - 20}" y2="{bottom}" stroke="#999"/>'
    )
    for index, region in enumerate(regions):
        series = sorted((p for p in points if p.region == region), key=lambda p: p.ts)
        if not series:
            continue
        colour = PALETTE[index % len(PALETTE)]
        dots = "".join(
            f'<circle cx="{x(p.ts):.1f}" cy="{bottom - p.seconds / peak * LATENCY_HEIGHT:.1f}" '
            f'r="2.5"><title>{p.seconds * 1000:.0f} ms</title></circle>'
            for p in series
        )
        parts.append(
            f'<g class="latency" data-region={quoteattr(region)} fill="{colour}">{dots}</g>'
        )
        parts.append(_text(8, top + 46 + 14 * index, region, size=10, colour=colour))
    return bottom + 6


def _time_axis(report, span: float, x, y: int, parts: list[str]) -> int:
    step = next(s for s in (5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600) if span / s <= 12)
    tick = 0.0
    while tick <= span:
        tx = x(report.started + tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{y}" x2="{tx:.1f}" y2="{y + 5}" stroke="#666"/>')
        parts.append(_text(tx - 8, y + 18, f"{tick:.0f}s", size=10))
        tick += step
    return y + 24


def _rect(x: float, y: float, width: float, height: float, colour: str, title: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{height}" fill="{colour}">'
        f"<title>{escape(title)}</title></rect>"
    )


def _text(
    x: float, y: float, text: str, *, size: int = 12, bold: bool = False, colour: str = "#222"
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    style = f'font-size="{size}" fill="{colour}"{weight}'
    return f'<text x="{x:.1f}" y="{y}" {style}>{escape(text)}</text>'
