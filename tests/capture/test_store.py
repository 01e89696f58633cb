"""The SQLite store on its own: persistence, WAL, typed attribute filters."""

from __future__ import annotations

import time
from pathlib import Path

from signalcheck.capture.otlp import LogRecord, SpanRecord
from signalcheck.capture.store import CaptureStore


def _span(span_id: str, start: float, **attributes: object) -> SpanRecord:
    return SpanRecord(
        trace_id="ab" * 16,
        span_id=span_id,
        service="svc",
        name="op",
        start_time=start,
        end_time=start + 1,
        attributes=attributes,
    )


def test_persists_across_reopen_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "capture.db"
    with CaptureStore(path) as store:
        assert store.insert_spans([_span("01" * 8, 10.0, k="v")]) == 1
        assert store.insert_spans([_span("01" * 8, 10.0, k="other")]) == 0  # duplicate id
        mode = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    with CaptureStore(path) as store:
        (span,) = store.get_trace("AB" * 16)
        assert span.attributes == {"k": "v"}
        assert store.counts() == {"spans": 1, "logs": 0, "notifications": 0, "metric_points": 0}
        store.clear()
        assert store.counts()["spans"] == 0


def test_attribute_filter_types_and_nested_values() -> None:
    with CaptureStore() as store:
        store.insert_spans(
            [
                _span("01" * 8, 1.0, code=200, flag=True, name="x", nested={"a": 1}),
                _span("02" * 8, 2.0, code="200", flag=False, name='quo"te'),
                _span("03" * 8, 3.0, code=200.5),
            ]
        )
        ids = lambda **kw: [s.span_id for s in store.find_spans(**kw)]  # noqa: E731
        assert ids(attrs={"code": "200"}) == ["01" * 8, "02" * 8]  # int and string alike
        assert ids(attrs={"code": "200.5"}) == ["03" * 8]
        assert ids(attrs={"flag": "false"}) == ["02" * 8]
        assert ids(attrs={"name": 'quo"te'}) == ["02" * 8]
        assert ids(attrs={"nested": '{"a":1}'}) == ["01" * 8]
        assert ids(attrs=[("code", "200"), ("flag", "true")]) == ["01" * 8]
        assert ids(start=1.5) == ["02" * 8, "03" * 8]
        assert ids(end=1.5) == ["01" * 8]
        assert ids(limit=1) == ["03" * 8]


def test_log_body_search_on_structured_bodies() -> None:
    with CaptureStore() as store:
        store.insert_logs(
            [
                LogRecord(time=1.0, body={"event": "login", "user": "ana"}, service="s"),
                LogRecord(time=2.0, body="plain text", service="s"),
                LogRecord(time=3.0, body=None, service="s"),
            ]
        )
        assert [r.time for r in store.find_logs(text="login")] == [1.0]
        assert [r.body for r in store.find_logs(text="plain")] == ["plain text"]
        assert [r.body for r in store.find_logs(start=3.0)] == [None]


def test_records_come_back_with_the_time_they_were_stored() -> None:
    with CaptureStore() as store:
        before = time.time()
        store.insert_spans([_span("01" * 8, 1.0)])
        store.insert_logs([LogRecord(time=1.0, body="x", service="s", trace_id="ab" * 16)])
        after = time.time()
        (span,) = store.get_trace("ab" * 16)
        assert before <= span.received_at <= after
        assert [s.received_at for s in store.find_spans(service="svc")] == [span.received_at]
        (log,) = store.find_logs(trace_id="ab" * 16)
        assert before <= log.received_at <= after
        time.sleep(0.01)
        store.insert_spans([_span("01" * 8, 1.0)])  # an exporter's retry: the first arrival stays
        assert store.get_trace("ab" * 16)[0].received_at == span.received_at
