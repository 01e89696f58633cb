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


def sample(
    detected: bool = True, failing: bool = False, problems: tuple[str, ...] = ()
) -> GamedayReport:
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
                               passed=True, time_to_appear=1.2,
                               query="synthetic_check_success"),
            ExpectationOutcome(name="logs: records carry trace ids", kind="logs",
                               passed=not failing, appeared_within=293.0,
                               query="trace_id=abc", message="no log record with trace abc"),
            ExpectationOutcome(name="chaos / alerts:high-latency-chats", kind="alerts",
                               passed=True,
                               skipped="conditional: this run planned no latency fault"),
        ],
        detections=[Detection(experiment="error-injection", alert="HighErrorRate",
                              region="eu-west-1", fault_start=T0 + 70, floor_seconds=33.0,
                              detected_at=T0 + 103.4 if detected else None,
                              cleared_at=T0 + 110, resolved_at=T0 + 170)],
        vitals=[VitalSummary(name="LCP", unit="s", count=12, p75=0.42, good_share=1.0)],
        problems=list(problems),
    )  # fmt: skip


STEADY = "chaos region-outage: steady state not met before the method: every-region-ready = False"
THRESHOLD = "load ramp: threshold p95_ms crossed: measured 812, limit 500"


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
    assert suite.get("tests") == "4"
    assert suite.get("failures") == "2"
    assert suite.get("skipped") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    probe = cases["metrics: probe series for every region"]
    props = {p.get("name"): p.get("value") for p in probe.iter("property")}
    assert props == {"time_to_appear": "1.200", "query": "synthetic_check_success"}
    logs = cases["logs: records carry trace ids"]
    props = {p.get("name"): p.get("value") for p in logs.iter("property")}
    assert props == {"appeared_within": "293.000", "query": "trace_id=abc"}
    assert logs.get("time") == "0.000", "an upper bound is not a measured time"
    skipped = cases["chaos / alerts:high-latency-chats"].find("skipped")
    assert skipped.get("message") == "conditional: this run planned no latency fault"
    detection = cases["error-injection: HighErrorRate for eu-west-1"]
    assert detection.find("failure").get("message") == "HighErrorRate never fired"


def test_problems_fail_the_verdict_though_every_expectation_passed():
    report = sample(problems=(STEADY, THRESHOLD))
    assert sample().passed and not report.passed
    assert all(e.passed for e in report.expectations)
    assert all(d.detected_at is not None for d in report.detections)


def test_html_shows_each_problem_above_the_timeline():
    html = render_html(sample(problems=(STEADY, THRESHOLD)))
    assert "FAILED" in html
    section = re.search(r'<section class="problems".*?</section>', html, re.S).group(0)
    assert html.index(section) < html.index('class="timeline"')
    assert [re.sub(r"\s+", " ", li) for li in re.findall(r"<li>(.*?)</li>", section, re.S)] == [
        STEADY,
        THRESHOLD,
    ]
    assert 'class="problems"' not in render_html(sample())


def test_junit_has_one_failing_testcase_per_problem():
    suite = ET.fromstring(render_junit(sample(problems=(STEADY, THRESHOLD))))
    assert suite.get("failures") == "2"
    verdict = [case for case in suite.iter("testcase") if case.get("classname") == "verdict"]
    assert [case.find("failure").get("message") for case in verdict] == [STEADY, THRESHOLD]


def test_html_shows_measured_times_and_upper_bounds_apart():
    html = render_html(sample())
    table = re.search(r'<table class="expectations">.*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    probe, logs, skipped = rows
    assert '<td class="num">1.2 s</td>' in probe
    assert '<td class="num">≤ 293.0 s</td>' in logs
    assert 'class="pass"' in logs, "an upper bound is never judged late"
    assert '<td class="skip">skipped</td>' in skipped
    assert "this run planned no latency fault" in skipped
    assert "2 of 2 expectations met" in html


def test_console_summary_names_failures():
    console = Console(record=True, width=140)
    print_summary(sample(failing=True), console)
    text = console.export_text()
    assert "expectations: 1 of 2 met, 1 skipped (conditional, not planned)" in text
    assert "no log record with trace abc" in text
    assert "game day FAILED" in text


def test_console_summary_prints_each_problem():
    console = Console(record=True, width=200)
    print_summary(sample(problems=(STEADY, THRESHOLD)), console)
    text = console.export_text()
    assert f"FAILED BECAUSE {STEADY}" in text
    assert f"FAILED BECAUSE {THRESHOLD}" in text
    assert "expectations: 2 of 2 met" in text and "game day FAILED" in text


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
