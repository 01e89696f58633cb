"""Game-day report rendering: HTML (self-contained, opened in real Chromium), JUnit, console."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest
from rich.console import Console

from signalcheck.report import (
    AlertSpan,
    Detection,
    ExpectationOutcome,
    FaultSpan,
    GamedayReport,
    LatencyPoint,
    Phase,
    VitalSummary,
)
from signalcheck.report.console import print_summary
from signalcheck.report.html import render_html, write_html
from signalcheck.report.junit import render_junit

T0 = 1_800_000_000.0


def sample(detected: bool = True, failing: bool = False) -> GamedayReport:
    return GamedayReport(
        title="signalcheck game day <quick>",
        started=T0,
        ended=T0 + 300,
        phases=[Phase(name="baseline", start=T0, end=T0 + 60),
                Phase(name="chaos: error-injection", start=T0 + 60, end=T0 + 300)],
        faults=[FaultSpan(action="errors", region="eu-west-1", start=T0 + 70, end=T0 + 110)],
        alerts=[AlertSpan(alert="HighErrorRate", region="eu-west-1", firing_at=T0 + 103,
                          resolved_at=T0 + 170)],
        latencies=[LatencyPoint(region=r, ts=T0 + 10 * i, seconds=0.01 * (i % 5 + 1))
                   for r in ("us-east-1", "eu-west-1") for i in range(30)],
        expectations=[
            ExpectationOutcome(name="metrics: probe series for every region", kind="metrics",
                               passed=True, seconds_to_appear=1.2,
                               query="synthetic_check_success"),
            ExpectationOutcome(name="logs: records carry trace ids", kind="logs",
                               passed=not failing, seconds_to_appear=None,
                               query="trace_id=abc", message="no log record with trace abc"),
        ],
        detections=[Detection(experiment="error-injection", alert="HighErrorRate",
                              region="eu-west-1", fault_start=T0 + 70, floor_seconds=33.0,
                              detected_at=T0 + 103.4 if detected else None,
                              cleared_at=T0 + 110, resolved_at=T0 + 170)],
        vitals=[VitalSummary(name="LCP", unit="s", count=12, p75=0.42, good_share=1.0)],
    )  # fmt: skip


def test_html_is_self_contained_and_escaped():
    html = render_html(sample())
    assert "<svg" in html and 'class="timeline"' in html
    assert not re.search(r"""(src|href)=["']?https?://""", html)
    assert "<link" not in html and "<script" not in html
    assert "game day &lt;quick&gt;" in html


def test_html_detection_table_shows_time_to_detect_beside_floor():
    html = render_html(sample())
    row = re.search(r'<table class="detection">.*?</table>', html, re.S).group(0)
    assert "HighErrorRate" in row and "eu-west-1" in row
    assert "33.4 s" in row  # detected 103.4 - fault 70
    assert "33.0 s" in row  # floor
    assert "60.0 s" in row  # resolved 170 - cleared 110


def test_timeline_draws_faults_alerts_and_latency_per_region():
    html = render_html(sample())
    assert "errors in eu-west-1: 40.0s" in html
    assert "HighErrorRate for eu-west-1: 67.0s" in html
    assert html.count('class="latency"') == 2


def test_verdict_follows_expectations_and_detections():
    assert sample().passed
    assert not sample(failing=True).passed
    assert not sample(detected=False).passed
    assert "FAILED" in render_html(sample(detected=False))


def test_junit_counts_failures_and_carries_timings():
    suite = ET.fromstring(render_junit(sample(detected=False, failing=True)))
    assert suite.get("tests") == "3"
    assert suite.get("failures") == "2"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    probe = cases["metrics: probe series for every region"]
    props = {p.get("name"): p.get("value") for p in probe.iter("property")}
    assert props == {"time_to_appear": "1.200", "query": "synthetic_check_success"}
    detection = cases["error-injection: HighErrorRate for eu-west-1"]
    assert detection.find("failure").get("message") == "HighErrorRate never fired"


def test_console_summary_names_failures():
    console = Console(record=True, width=140)
    print_summary(sample(failing=True), console)
    text = console.export_text()
    assert "expectations: 1 of 2 met" in text
    assert "no log record with trace abc" in text
    assert "game day FAILED" in text


@pytest.mark.slow
def test_report_opens_in_headless_chromium(tmp_path):
    """Real Chromium renders report.html offline; the timeline and detection table are visible."""
    from playwright.sync_api import sync_playwright

    from tests.support import launch_chromium

    path = write_html(sample(), tmp_path / "report.html")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route(
                "**/*",
                lambda route: (
                    route.abort()
                    if not route.request.url.startswith("file:")
                    else route.continue_()
                ),
            )
            page.goto(path.as_uri())
            timeline = page.locator("svg.timeline")
            assert timeline.is_visible()
            assert timeline.bounding_box()["height"] > 100
            assert page.locator("table.detection tr").count() == 2
            assert "HighErrorRate" in page.locator("table.detection").inner_text()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
