"""The workflow check against the real demo service: captures, compare, guaranteed cleanup."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import httpx

from signalcheck.checks import WorkflowCheck
from signalcheck.probes.browser import Browsers
from signalcheck.probes.results import CheckResult
from signalcheck.probes.runner import run_check
from tests.probes.conftest import reference_checks


def lifecycle() -> dict:
    (check,) = [c for c in reference_checks() if c["type"] == "workflow"]
    return copy.deepcopy(check)


def run(raw: dict, base_url: str, tmp_path: Path) -> CheckResult:
    async def go() -> CheckResult:
        browsers = Browsers()
        try:
            return await run_check(
                WorkflowCheck.model_validate(raw), "eu-west-1", base_url, browsers=browsers,
                artifacts=tmp_path, script_base=tmp_path,
            )  # fmt: skip
        finally:
            await browsers.close()

    return asyncio.run(go())


def test_reference_workflow_passes_and_cleans_up(demo_url, tmp_path) -> None:
    result = run(lifecycle(), demo_url, tmp_path)
    assert result.outcome == "success", result.error
    assert [(s["name"], s["outcome"]) for s in result.steps] == [
        ("token", "success"),
        ("create", "success"),
        ("read", "success"),
        ("delete", "success"),
    ]
    assert [s["status"] for s in result.steps] == [200, 201, 200, 204]
    assert all(s["duration"] > 0 for s in result.steps)


def test_a_failing_middle_step_is_named_and_cleanup_still_runs(demo_url, tmp_path) -> None:
    raw = lifecycle()
    raw["retries"] = {"attempts": 1}
    raw["steps"][2]["expect"]["json"]["$.title"] = "a title the demo never returns"
    raw["cleanup"].append(
        {"name": "gone", "path": "/v1/assignments/${assignment_id}",
         "headers": {"Authorization": "Bearer ${token}"}, "expect": {"status": [404]}}
    )  # fmt: skip
    result = run(raw, demo_url, tmp_path)
    assert (result.outcome, result.error_class, result.failed_step) == (
        "failure",
        "assertion",
        "read",
    )
    assert "a title the demo never returns" in result.error
    outcomes = {s["name"]: s["outcome"] for s in result.steps}
    assert outcomes == {
        "token": "success",
        "create": "success",
        "read": "failure",
        "delete": "success",
        "gone": "success",
    }


def test_cleanup_is_skipped_when_nothing_was_created(demo_url, tmp_path) -> None:
    raw = lifecycle()
    raw["retries"] = {"attempts": 1}
    raw["steps"][0]["json"]["client_secret"] = "wrong-secret"
    result = run(raw, demo_url, tmp_path)
    assert (result.error_class, result.failed_step) == ("http_status", "token")
    assert [(s["name"], s["outcome"]) for s in result.steps] == [
        ("token", "failure"),
        ("delete", "skipped"),
    ]


def test_a_failing_cleanup_fails_a_workflow_that_passed(demo_url, tmp_path) -> None:
    raw = lifecycle()
    raw["retries"] = {"attempts": 1}
    raw["cleanup"][0]["expect"] = {"status": [200]}  # the demo answers 204
    result = run(raw, demo_url, tmp_path)
    assert (result.outcome, result.error_class, result.failed_step) == (
        "failure",
        "http_status",
        "delete",
    )


def test_the_deadline_still_cleans_up(demo_url, tmp_path) -> None:
    """With 1 s per request and a 2.7 s deadline, `read` is cut off; cleanup still runs (the
    0.7 s past token and create leave room for a loaded machine's overhead)."""
    raw = lifecycle()
    raw["retries"] = {"attempts": 1}
    raw["timeout"] = 2.7
    admin = {"Authorization": "Bearer probe-tests"}
    httpx.put(f"{demo_url}/admin/faults", json={"latency_ms": 1000}, headers=admin, timeout=5)
    try:
        result = run(raw, demo_url, tmp_path)
    finally:
        httpx.delete(f"{demo_url}/admin/faults", headers=admin, timeout=5)
    assert (result.error_class, result.failed_step) == ("timeout", "read"), result.error
    assert [(s["name"], s["outcome"]) for s in result.steps] == [
        ("token", "success"),
        ("create", "success"),
        ("read", "failure"),
        ("delete", "success"),
    ]


def test_body_contains_fills_in_captured_values(demo_url, tmp_path) -> None:
    """`${name}` in an expected body text is the value captured earlier, as in expected JSON
    values: the read step finds the id the create step captured, and a miss names the text it
    looked for, filled in."""
    raw = lifecycle()
    raw["retries"] = {"attempts": 1}
    raw["steps"][2]["expect"]["body_contains"] = '"id":"${assignment_id}"'
    result = run(raw, demo_url, tmp_path)
    assert result.outcome == "success", result.error
    raw["steps"][2]["expect"]["body_contains"] = "${assignment_id}-not-there"
    result = run(raw, demo_url, tmp_path)
    assert (result.error_class, result.failed_step) == ("assertion", "read"), result.error
    assert "body does not contain '" in result.error and "${" not in result.error
    assert "-not-there'" in result.error
