"""A probe that times out keeps the phases measured before the timeout, as blackbox_exporter
reports `probe_http_duration_seconds{phase="resolve"|"connect"}` of a request that timed out."""

from __future__ import annotations

from tests.probes.test_fault_matrix import http_check, run


def test_a_timeout_keeps_resolve_and_connect(silent, tmp_path) -> None:
    """The silent port completes the TCP handshake and never answers: connect is measured,
    processing never ends."""
    result = run(http_check("/ok", timeout=0.3), f"http://127.0.0.1:{silent}", tmp_path)
    assert (result.outcome, result.error_class) == ("failure", "timeout")
    assert set(result.phases) == {"resolve", "connect", "tls", "processing", "transfer"}
    assert result.phases["connect"] > 0
    assert result.phases["processing"] == 0.0 and result.phases["transfer"] == 0.0
    assert sum(result.phases.values()) < 0.3
