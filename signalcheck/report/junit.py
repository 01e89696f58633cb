"""`junit.xml`: one test case per verdict problem, per expectation and per expected alert,
timings as properties (`time_to_appear` measured, `appeared_within` an upper bound)."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from signalcheck.report.model import GamedayReport


def render_junit(report: GamedayReport) -> str:
    suite = ET.Element("testsuite", name="signalcheck gameday")
    failures = skipped = 0
    for number, problem in enumerate(report.problems, start=1):
        case = ET.SubElement(suite, "testcase", classname="verdict", name=f"{number}: {problem}")
        ET.SubElement(case, "failure", message=problem)
        failures += 1
    for outcome in report.expectations:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"expectations.{outcome.kind}",
            name=outcome.name,
            time=f"{outcome.time_to_appear or 0:.3f}",
        )
        _properties(
            case,
            time_to_appear=outcome.time_to_appear,
            appeared_within=outcome.appeared_within,
            query=outcome.query,
        )
        if outcome.skipped:
            skipped += 1
            ET.SubElement(case, "skipped", message=outcome.skipped)
        elif not outcome.passed:
            failures += 1
            ET.SubElement(case, "failure", message=outcome.message or "expectation not met")
    for detection in report.detections:
        name = f"{detection.experiment}: {detection.alert} for {detection.region}"
        ttd = detection.time_to_detect
        case = ET.SubElement(
            suite, "testcase", classname="detection", name=name, time=f"{ttd or 0:.3f}"
        )
        _properties(
            case,
            time_to_detect=ttd,
            floor=detection.floor_seconds,
            time_to_resolve=detection.time_to_resolve,
        )
        if ttd is None:
            failures += 1
            ET.SubElement(case, "failure", message=f"{detection.alert} never fired")
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("time", f"{report.ended - report.started:.3f}")
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def _properties(case: ET.Element, **values: object) -> None:
    props = ET.SubElement(case, "properties")
    for name, value in values.items():
        if value not in (None, ""):
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            ET.SubElement(props, "property", name=name, value=shown)


def write_junit(report: GamedayReport, path: Path) -> Path:
    path.write_text(render_junit(report), encoding="utf-8")
    return path
