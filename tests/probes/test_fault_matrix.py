"""Every kind of failure is classified with its error type, and none crashes the pass."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from signalcheck.checks import HttpCheck
from signalcheck.config import load_config
from signalcheck.ledger import Ledger
from signalcheck.probes.browser import Browsers
from signalcheck.probes.results import CheckResult
from signalcheck.probes.runner import run_check, run_pass
from tests.probes.conftest import write_config
from tests.support import free_port

SHORT_TIMEOUT = 0.5
"""The timeout of the checks that must time out (a silent target): the rest get 5 s, so a
loaded machine's slow handshake is not misread as a timeout."""


def http_check(path: str, **fields) -> HttpCheck:
    return HttpCheck.model_validate(
        {"name": "matrix", "type": "http", "path": path, "timeout": 5.0, **fields}
    )


def run(check: HttpCheck, base_url: str, tmp_path: Path) -> CheckResult:
    async def go() -> CheckResult:
        browsers = Browsers()
        try:
            return await run_check(
                check, "eu-west-1", base_url, browsers=browsers, artifacts=tmp_path,
                script_base=tmp_path,
            )  # fmt: skip
        finally:
            await browsers.close()

    return asyncio.run(go())


def test_a_passing_check_reports_real_phases(target, tmp_path) -> None:
    url, seen = target
    result = run(http_check("/ok", expect={"json": {"$.items[0].id": 7}}), url, tmp_path)
    assert result.outcome == "success", result.error
    assert (result.status, result.attempts, result.error_class) == (200, 1, None)
    assert set(result.phases) == {"resolve", "connect", "tls", "processing", "transfer"}
    assert result.phases["tls"] == 0.0
    assert result.phases["connect"] > 0 and result.phases["processing"] > 0
    assert sum(result.phases.values()) <= result.duration
    headers = seen[-1]
    assert headers["traceparent"].split("-")[1] == result.trace_id
    assert headers["X-Signalcheck-Check"] == "matrix"


def test_a_redirect_is_followed_and_its_phases_add_up(target, tmp_path) -> None:
    url, _ = target
    result = run(http_check("/moved", expect={"body_contains": '"ok"'}), url, tmp_path)
    assert result.outcome == "success", result.error


FAULTS = {
    "dns failure": (lambda target, silent: "http://probe-target.invalid", "/ok", "dns_error"),
    "refused connection": (
        lambda target, silent: f"http://127.0.0.1:{free_port()}",
        "/ok",
        "connect_error",
    ),
    "timeout": (lambda target, silent: f"http://127.0.0.1:{silent}", "/ok", "timeout"),
    "5xx": (lambda target, silent: target, "/error", "http_status"),
    "wrong body": (lambda target, silent: target, "/wrong-body", "assertion"),
    "invalid json": (lambda target, silent: target, "/not-json", "invalid_json"),
    "redirect loop": (lambda target, silent: target, "/loop", "redirect_loop"),
}
EXPECT = {"body_contains": "ok", "json": {"$.status": "ok"}}


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_is_classified(target, silent, tmp_path, fault) -> None:
    make_url, path, error_class = FAULTS[fault]
    timeout = SHORT_TIMEOUT if error_class == "timeout" else 5.0
    began = time.monotonic()
    check = http_check(path, expect=EXPECT, timeout=timeout)
    result = run(check, make_url(target[0], silent), tmp_path)
    assert (result.outcome, result.error_class) == ("failure", error_class), result.error
    assert result.error
    assert time.monotonic() - began < timeout + 4.5


def test_tls_error_on_an_untrusted_certificate(tls_target, tmp_path) -> None:
    url, _ = tls_target
    result = run(http_check("/ok"), url, tmp_path)
    assert (result.outcome, result.error_class) == ("failure", "tls_error"), result.error
    assert "CERTIFICATE_VERIFY_FAILED" in result.error


def test_tls_without_verification_reports_the_certificate_expiry(tls_target, tmp_path) -> None:
    url, not_after = tls_target
    result = run(http_check("/ok", verify_tls=False), url, tmp_path)
    assert result.outcome == "success", result.error
    assert result.cert_expiry == not_after
    assert result.phases["tls"] > 0


def test_plain_http_to_a_tls_port_is_a_tls_error(tls_target, tmp_path) -> None:
    url, _ = tls_target
    result = run(http_check("/ok"), url.replace("https://", "http://"), tmp_path)
    assert result.outcome == "failure"
    assert result.error_class in {"protocol_error", "connect_error"}, result.error


def test_retries_back_off_and_count_attempts(tmp_path) -> None:
    check = http_check(
        "/ok", retries={"attempts": 3, "backoff": "exponential", "delay": 0.1, "max_delay": 1}
    )
    began = time.monotonic()
    result = run(check, f"http://127.0.0.1:{free_port()}", tmp_path)
    assert (result.attempts, result.error_class) == (3, "connect_error")
    assert time.monotonic() - began >= 0.1 + 0.2


def test_a_pass_over_every_fault_completes_and_ledgers_each(target, silent, tmp_path) -> None:
    """One pass, one region per fault: every result is there, classified, in the ledger."""
    regions = {
        "refused": f"http://127.0.0.1:{free_port()}",
        "silent": f"http://127.0.0.1:{silent}",
        "faulty": target[0],
    }
    checks = [
        {"name": name, "type": "http", "path": path, "timeout": 2.0, "expect": EXPECT}
        for name, path in [("error", "/error"), ("not-json", "/not-json"), ("loop", "/loop")]
    ]
    config = load_config(write_config(tmp_path, regions, checks), environ={})
    ledger = Ledger(tmp_path / "ledger.jsonl")
    results = asyncio.run(run_pass(config, list(regions), ledger, concurrency=4))
    classes = {(r.region, r.check): r.error_class for r in results}
    assert classes == {
        **{("refused", c["name"]): "connect_error" for c in checks},
        **{("silent", c["name"]): "timeout" for c in checks},
        ("faulty", "error"): "http_status",
        ("faulty", "not-json"): "invalid_json",
        ("faulty", "loop"): "redirect_loop",
    }
    entries = ledger.entries("probe")
    assert len(entries) == 9
    assert {(e.field("region"), e.field("check"), e.field("error_class")) for e in entries} == {
        (region, check, error) for (region, check), error in classes.items()
    }
    assert all(len(e.field("trace_id")) == 32 for e in entries)
