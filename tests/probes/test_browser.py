"""Browser checks in real headless Chromium against local pages."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from signalcheck.checks import BrowserCheck
from signalcheck.probes.browser import Browsers
from signalcheck.probes.results import CheckResult
from signalcheck.probes.runner import run_check
from tests.support import free_port

pytestmark = pytest.mark.slow

USER_SCRIPT = """
async def run(page, context):
    await page.goto("/page")
    status = await page.text_content("#status")
    assert status == "{expected}", f"status is {{status!r}}"
"""


def run(raw: dict, base_url: str, tmp_path: Path) -> CheckResult:
    check = BrowserCheck.model_validate(
        {"name": "page", "type": "browser", "timeout": 20, "navigation_timeout": 3, **raw}
    )

    async def go() -> CheckResult:
        browsers = Browsers()
        try:
            return await run_check(
                check, "eu-west-1", base_url, browsers=browsers,
                artifacts=tmp_path / "artifacts", script_base=tmp_path,
            )  # fmt: skip
        finally:
            await browsers.close()

    return asyncio.run(go())


def test_a_good_page_passes_with_web_vitals_and_trace_headers(target, tmp_path) -> None:
    url, seen = target
    result = run({"path": "/page", "wait_for_selector": "#status.ready"}, url, tmp_path)
    assert result.outcome == "success", result.error
    vitals = result.web_vitals
    assert 0 < vitals["fcp"] < 10 and 0 < vitals["ttfb"] < 10, vitals
    assert vitals["lcp"] is not None and vitals["lcp"] >= vitals["fcp"] > 0, vitals
    assert vitals["cls"] == 0, vitals
    assert result.navigation["load"] > 0, result.navigation
    assert result.screenshot is None
    page_requests = [h for h in seen if h.get("X-Signalcheck-Check") == "page"]
    assert page_requests, seen[-3:]
    assert {h["traceparent"].split("-")[1] for h in page_requests} == {result.trace_id}


def test_a_broken_page_fails_with_a_screenshot_and_console_errors(target, tmp_path) -> None:
    url, _ = target
    result = run({"path": "/broken", "wait_for_selector": "#status.ready"}, url, tmp_path)
    assert (result.outcome, result.error_class) == ("failure", "assertion"), result.error
    assert result.attempts == 1
    screenshot = Path(result.screenshot)
    assert screenshot.parent == tmp_path / "artifacts"
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any("boom: app bundle failed to load" in e for e in result.console_errors)
    assert any("undefinedFunction" in e for e in result.console_errors)


def test_a_missing_page_is_an_http_status_failure(target, tmp_path) -> None:
    url, _ = target
    result = run({"path": "/no-such-page"}, url, tmp_path)
    assert (result.outcome, result.error_class) == ("failure", "http_status"), result.error


def test_a_user_script_is_a_monitor(target, tmp_path) -> None:
    url, _ = target
    (tmp_path / "passing.py").write_text(USER_SCRIPT.format(expected="ready"))
    (tmp_path / "failing.py").write_text(USER_SCRIPT.format(expected="degraded"))
    passed = run({"script": "passing.py"}, url, tmp_path)
    assert passed.outcome == "success", passed.error
    assert passed.web_vitals["fcp"] > 0
    failed = run({"script": "failing.py"}, url, tmp_path)
    assert (failed.outcome, failed.error_class) == ("failure", "assertion")
    assert "status is 'ready'" in failed.error
    assert Path(failed.screenshot).is_file()


def test_a_script_without_run_is_a_script_error(target, tmp_path) -> None:
    url, _ = target
    (tmp_path / "empty.py").write_text("x = 1\n")
    result = run({"script": "empty.py"}, url, tmp_path)
    assert (result.outcome, result.error_class) == ("failure", "script_error")


def test_an_unreachable_page_is_a_connect_error(tmp_path) -> None:
    result = run({"path": "/"}, f"http://127.0.0.1:{free_port()}", tmp_path)
    assert (result.outcome, result.error_class) == ("failure", "connect_error"), result.error
