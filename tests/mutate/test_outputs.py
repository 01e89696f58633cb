"""The coverage outputs (summary, JSON, HTML) and the CLI's usage errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

from signalcheck.mutate.coverage import CoverageReport, Row
from signalcheck.mutate.html import render_html
from tests.support import REPO


def _report() -> CoverageReport:
    return CoverageReport(
        experiments=["error-injection"],
        rows=[
            Row("HighErrorRate.threshold", "alerting rule HighErrorRate", "threshold out of reach",
                "caught", ["alerts:high-error-rate-pages"]),
            Row("inhibit.1", "inhibit rule 1", "removed", "not exercised",
                why="no experiment makes a ServiceDown-inhibited alert fire"),
            Row("scrape.prometheus", "scrape job prometheus", "removed", "not caught",
                why="no expectation reads job prometheus's series"),
        ],
        baseline=["alerts:high-error-rate-pages"],
        wall_seconds=12.0,
    )  # fmt: skip


def test_summary_names_each_survivor_and_what_is_missing():
    report = _report()
    assert not report.passed
    assert report.summary() == (
        "caught 1 of 3; not caught: inhibit.1 (not exercised: no experiment makes a "
        "ServiceDown-inhibited alert fire); scrape.prometheus (not caught: no expectation "
        "reads job prometheus's series)"
    )
    doc = json.loads(json.dumps(report.as_dict()))
    assert (doc["caught"], doc["total"], doc["passed"]) == (1, 3, False)
    assert [m["status"] for m in doc["mutants"]] == ["caught", "not exercised", "not caught"]


def test_html_is_self_contained_and_escaped():
    page = render_html(_report())
    assert "caught 1 of 3" in page and 'class="not-exercised"' in page
    assert "prometheus&#39;s series" in page, "text is escaped"
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")


def test_cli_usage_errors_exit_2():
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "signalcheck", "mutate", "--config",
             str(REPO / "signalcheck.yaml"), *args],
            cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    nothing = run("--only", "NoSuchAlert.*")
    assert nothing.returncode == 2 and "matches no mutant" in nothing.stderr
    unknown = run("--experiments", "no-such-experiment")
    assert unknown.returncode == 2 and "no such experiment" in unknown.stderr
