"""`POST /v1/events` and `/collect` at the HTTP edge: statuses with reasons, CORS, privacy."""

from __future__ import annotations

import gzip
import json
import sqlite3

import pytest
from fastapi.testclient import TestClient

from signalcheck.rum_ingest.app import create_app
from signalcheck.rum_ingest.models import MAX_BODY_BYTES
from tests.rum.conftest import (
    API_KEY,
    ORIGIN,
    OTHER_APP_READ_KEY,
    READ_KEY,
    count_rows,
    event,
    settings,
)

HEADERS = {"X-API-Key": API_KEY}
READ = {"X-API-Key": READ_KEY}


def stored(sqlite_url: str, sql: str) -> list[tuple]:
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def test_a_valid_batch_is_accepted_and_stored(client, sqlite_url):
    events = [event("page_load", metrics={"total": 812.5}), event("long_task", duration=75)]
    response = client.post("/v1/events", json={"events": events}, headers=HEADERS)
    assert response.status_code == 202
    assert response.json() == {"accepted": 2}
    assert stored(sqlite_url, "SELECT event_type, app, duration_us FROM rum_events") == [
        ("page_load", "web", 812_500),
        ("long_task", "web", 75_000),
    ]


def test_a_sendbeacon_text_plain_body_with_the_key_in_the_query_is_accepted(client, sqlite_url):
    body = json.dumps({"events": [event("web_vital", vital={"name": "CLS", "value": 0.03})]})
    response = client.post(
        f"/v1/events?api_key={API_KEY}",
        content=body,
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
    assert response.status_code == 202
    assert stored(sqlite_url, "SELECT name, value FROM rum_events") == [("CLS", 0.03)]


@pytest.mark.parametrize(
    ("headers", "body", "status", "reason"),
    [
        ({}, b'{"events": []}', 401, "missing API key"),
        ({"X-API-Key": "wrong-key-0123456789"}, b"{}", 401, "unknown API key"),
        ({**HEADERS, "Content-Type": "application/xml"}, b"{}", 415, "Content-Type must be"),
        ({**HEADERS, "Content-Type": "application/json"}, b'{"events": [', 400, "not valid JSON"),
        ({**HEADERS, "Content-Type": "application/json"}, b'{"events": []}', 422, "events"),
        (
            {**HEADERS, "Content-Type": "application/json"},
            json.dumps({"events": [event("api_call", api={"method": "GET"})]}).encode(),
            422,
            "events.0.api_call.api.endpoint: Field required",
        ),
        (
            {**HEADERS, "Content-Type": "application/json"},
            json.dumps({"events": [event("error", error={"message": "a\u0000b"})]}).encode(),
            422,
            "NUL",
        ),
        (
            {**HEADERS, "Content-Type": "application/json"},
            b" " * (MAX_BODY_BYTES + 1),
            413,
            "exceeds the limit",
        ),
    ],
    # the events carry the time of collection: ids of their own keep the test ids the same
    # in every xdist worker
    ids=[
        "no-key", "unknown-key", "xml", "broken-json", "no-events", "api-call-without-endpoint",
        "nul-in-message", "too-large",
    ],
)  # fmt: skip
def test_bad_requests_get_a_reason_and_store_nothing(
    client, sqlite_url, headers, body, status, reason
):
    response = client.post("/v1/events", content=body, headers=headers)
    assert response.status_code == status
    assert reason in response.json()["detail"]
    assert count_rows(sqlite_url) == 0


def test_an_oversized_streamed_body_is_refused_without_a_content_length(client):
    def chunks():
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    response = client.post(
        "/v1/events", content=chunks(), headers={**HEADERS, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_the_rate_limit_is_per_key_and_says_when_to_retry(sqlite_url):
    app = create_app(settings(sqlite_url, rate_per_second=0.5, rate_burst=2))
    body = {"events": [event("long_task", duration=1)]}
    with TestClient(app) as client:
        statuses = [client.post("/v1/events", json=body, headers=HEADERS) for _ in range(3)]
        other = client.post(
            "/v1/events", json=body, headers={"X-API-Key": "other-key-0123456789abcdef"}
        )
    assert [r.status_code for r in statuses] == [202, 202, 429]
    assert "rate limit" in statuses[2].json()["detail"]
    assert int(statuses[2].headers["Retry-After"]) >= 1
    assert other.status_code == 202
    assert count_rows(sqlite_url) == 3


def test_cors_preflight_allows_configured_origins_only(client):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key",
    }
    allowed = client.options("/v1/events", headers={"Origin": ORIGIN, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "x-api-key" in allowed.headers["access-control-allow-headers"].lower()
    denied = client.options("/v1/events", headers={"Origin": "http://evil.example", **preflight})
    assert denied.status_code == 400
    assert "access-control-allow-origin" not in denied.headers
    # every header faro-web-sdk 2.12.1's fetch transport sets (transport.ts, prepareRequest)
    faro = "content-type,content-encoding,x-api-key,x-faro-session-id,idempotency-key"
    faro_preflight = {**preflight, "Access-Control-Request-Headers": faro, "Origin": ORIGIN}
    assert client.options("/collect", headers=faro_preflight).status_code == 200

    posted = client.post(
        "/v1/events",
        json={"events": [event("long_task", duration=1)]},
        headers={**HEADERS, "Origin": ORIGIN},
    )
    assert posted.headers["access-control-allow-origin"] == ORIGIN
    assert "retry-after" in posted.headers["access-control-expose-headers"].lower()


def test_urls_and_messages_are_scrubbed_before_storage_and_labels(client, sqlite_url):
    url = "https://app.example/users/jane.doe@example.com/orders/123?token=s3cr3t#frag"
    events = [
        event("error", url=url, error={
            "message": "failed for jane.doe@example.com with Bearer abcdefgh12345678 at "
                       "https://api.example/v1/x?api_key=s3cr3t",
            "stack": "Error at https://app.example/main.js?v=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
        }),
        event("api_call", url=url, api={
            "method": "GET", "endpoint": "https://app.example/v1/items/98765?email=a@b.co",
            "duration": 12, "status": 200,
        }),
    ]  # fmt: skip
    assert client.post("/v1/events", json={"events": events}, headers=HEADERS).status_code == 202
    everything = json.dumps(stored(sqlite_url, "SELECT * FROM rum_events"))
    metrics = client.get("/metrics").text
    samples = "\n".join(line for line in metrics.splitlines() if not line.startswith("#"))
    for secret in ("jane.doe", "s3cr3t", "abcdefgh12345678", "eyJ", "a@b.co", "frag", "?"):
        assert secret not in everything
        assert secret not in samples
    assert stored(sqlite_url, "SELECT url, page FROM rum_events")[0] == (
        "https://app.example/users/[email]/orders/123",
        "/users/{redacted}/orders/{id}",
    )
    assert 'endpoint="GET /v1/items/{id}"' in metrics
    assert 'rum_js_errors_total{page="/users/{redacted}/orders/{id}"} 1.0' in metrics


def test_metrics_name_event_types_pages_vitals_and_status_classes(client):
    events = [
        event("page_load", url="http://app.example/docs/", metrics={"total": 1500}),
        event("web_vital", vital={"name": "LCP", "value": 2400}),
        event("web_vital", vital={"name": "INP", "value": 120}),
        event(
            "api_call", api={"method": "POST", "endpoint": "/v1/a", "duration": 80, "status": 503}
        ),
    ]
    assert client.post("/v1/events", json={"events": events}, headers=HEADERS).status_code == 202
    text = client.get("/metrics").text
    assert 'rum_events_total{event_type="page_load",page="/docs"} 1.0' in text
    assert 'rum_page_load_seconds_bucket{le="1.5",page="/docs"} 1.0' in text
    assert 'rum_web_vitals_lcp_seconds_bucket{le="2.5",page="/"} 1.0' in text
    assert 'rum_web_vitals_lcp_seconds_bucket{le="2.0",page="/"} 0.0' in text
    assert 'rum_web_vitals_inp_seconds_bucket{le="0.2",page="/"} 1.0' in text
    assert (
        'rum_api_call_duration_seconds_count{endpoint="POST /v1/a",status_class="5xx"} 1.0' in text
    )
    assert 'rum_ingest_batches_total{status="202"} 1.0' in text


FARO_PAYLOAD = {
    "meta": {
        "app": {"name": "shop", "version": "2.0.1"},
        "session": {"id": "faro-session-1"},
        "page": {"url": "https://shop.example/cart/42?coupon=x"},
        "browser": {"name": "chromium", "userAgent": "Mozilla/5.0"},
    },
    "logs": [{"message": "hello", "level": "info", "timestamp": "2026-01-01T10:00:00.000Z"}],
    "measurements": [
        {
            "type": "web-vitals",
            "values": {"lcp": 1830.2, "cls": 0.02, "fid": 3},
            "timestamp": "2026-01-01T10:00:01.000Z",
        },
    ],
    "exceptions": [
        {
            "type": "TypeError",
            "value": "x is undefined for bob@example.com",
            "stacktrace": {
                "frames": [
                    {
                        "filename": "https://shop.example/app.js",
                        "function": "f",
                        "lineno": 10,
                        "colno": 4,
                    }
                ]
            },
            "timestamp": "2026-01-01T10:00:02.000Z",
        },
    ],
    "events": [
        {
            "name": "faro.performance.navigation",
            "domain": "browser",
            "attributes": {"duration": "950.4", "ttfb": "120.1", "type": "navigate"},
            "timestamp": "2026-01-01T10:00:00.500Z",
        },
        {"name": "session_start", "attributes": {}, "timestamp": "2026-01-01T10:00:00.000Z"},
        {
            "name": "checkout",
            "domain": "shop",
            "attributes": {"step": "pay", "coupon": "token=abc123"},
            "trace": {"trace_id": "ab" * 16, "span_id": "cd" * 8},
        },
    ],
    "traces": {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "a"}, {"name": "b"}]}]}]},
}
FARO_WITH_USER = {
    **FARO_PAYLOAD,
    "meta": {**FARO_PAYLOAD["meta"], "user": {"email": "bob@example.com"}},
}


@pytest.mark.parametrize("path", ["/collect", f"/collect/{API_KEY}"])
def test_a_faro_payload_lands_in_the_same_store_and_metrics(client, sqlite_url, path):
    headers = HEADERS if path == "/collect" else {}
    response = client.post(path, json=FARO_WITH_USER, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "accepted": 7,
        "dropped": [
            {"kind": "meta_user", "reason": "personal_data", "count": 1},
            {"kind": "trace", "reason": "no_trace_store", "count": 2},
        ],
    }
    rows = stored(
        sqlite_url, "SELECT event_type, name, value, duration_us, page, message FROM rum_events"
    )
    assert sorted(rows, key=str) == sorted([
        ("web_vital", "LCP", 1830.2, None, "/cart/{id}", None),
        ("web_vital", "CLS", 0.02, None, "/cart/{id}", None),
        ("error", "TypeError", None, None, "/cart/{id}", "TypeError: x is undefined for [email]"),
        ("page_load", None, None, 950_400, "/cart/{id}", None),
        ("log", "info", None, None, "/cart/{id}", "hello"),
        ("custom_event", "session_start", None, None, "/cart/{id}", None),
        ("custom_event", "checkout", None, None, "/cart/{id}", None),
    ], key=str)  # fmt: skip
    [(trace_id, attributes)] = stored(
        sqlite_url, "SELECT trace_id, attributes FROM rum_events WHERE name = 'checkout'"
    )
    assert trace_id == "ab" * 16
    assert json.loads(attributes)["attributes"] == {"step": "pay", "coupon": "token=[redacted]"}
    assert "bob" not in str(stored(sqlite_url, "SELECT * FROM rum_events"))
    metrics = client.get("/metrics").text
    assert 'rum_web_vitals_lcp_seconds_count{page="/cart/{id}"} 1.0' in metrics
    assert 'rum_js_errors_total{page="/cart/{id}"} 1.0' in metrics
    assert 'rum_events_total{event_type="log",page="/cart/{id}"} 1.0' in metrics
    assert 'rum_events_total{event_type="custom_event",page="/cart/{id}"} 2.0' in metrics
    assert 'rum_ingest_dropped_items_total{kind="trace",reason="no_trace_store"} 2.0' in metrics
    assert 'rum_ingest_dropped_items_total{kind="meta_user",reason="personal_data"} 1.0' in metrics


def test_faro_web_vitals_keep_their_attribution_and_custom_measurements_are_stored(
    client, sqlite_url
):
    """Shapes as faro-web-sdk 2.12.1's web-vitals instrumentation (values: the vital, `delta`
    and attribution timings; context: rating, id, navigation type, targets) and
    `pushMeasurement({type, values})` send them."""
    payload = {
        "meta": FARO_PAYLOAD["meta"],
        "measurements": [
            {
                "type": "web-vitals",
                "values": {"inp": 240, "delta": 240, "input_delay": 12.5},
                "context": {"rating": "needs-improvement", "interaction_target": "#buy",
                            "navigation_type": "navigate"},
            },
            {"type": "cart", "values": {"items": 3, "total_eur": -12.5},
             "context": {"currency": "EUR"}},
        ],
    }  # fmt: skip
    response = client.post("/collect", json=payload, headers=HEADERS)
    assert response.json() == {"accepted": 3, "dropped": []}
    rows = stored(sqlite_url, "SELECT event_type, name, value, attributes FROM rum_events")
    by_name = {
        name: (kind, value, json.loads(attributes)) for kind, name, value, attributes in rows
    }
    kind, value, attributes = by_name["INP"]
    assert (kind, value, attributes["rating"]) == ("web_vital", 240, "needs-improvement")
    assert attributes["attribution"] == {
        "delta": 240, "input_delay": 12.5, "rating": "needs-improvement",
        "interaction_target": "#buy", "navigation_type": "navigate",
    }  # fmt: skip
    assert by_name["cart.items"][:2] == ("measurement", 3)
    assert by_name["cart.total_eur"][:2] == ("measurement", -12.5)
    assert by_name["cart.items"][2]["context"] == {"currency": "EUR"}


def test_a_gzip_faro_payload_is_read_and_a_broken_one_refused(client, sqlite_url):
    """Faro's `requestCompression` sends gzip with `Content-Encoding: gzip`."""
    body = gzip.compress(json.dumps(FARO_PAYLOAD).encode())
    gzipped = {**HEADERS, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = client.post("/collect", content=body, headers=gzipped)
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 7
    broken = client.post("/collect", content=body[:-9], headers=gzipped)
    assert broken.status_code == 400 and "gzip" in broken.json()["detail"]
    bomb = gzip.compress(b" " * (MAX_BODY_BYTES + 1))
    assert client.post("/collect", content=bomb, headers=gzipped).status_code == 413
    brotli = client.post("/collect", content=body, headers={**gzipped, "Content-Encoding": "br"})
    assert brotli.status_code == 415 and "Content-Encoding" in brotli.json()["detail"]
    assert count_rows(sqlite_url) == 7


def test_a_faro_payload_with_a_bad_timestamp_is_refused(client, sqlite_url):
    payload = {**FARO_PAYLOAD, "measurements": [
        {"type": "web-vitals", "values": {"lcp": 1.0}, "timestamp": "yesterday"}]}  # fmt: skip
    response = client.post("/collect", json=payload, headers=HEADERS)
    assert response.status_code == 422
    assert "timestamp" in response.json()["detail"]
    assert count_rows(sqlite_url) == 0


def test_health_readiness_and_the_sdk(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/health/ready").json() == {"status": "ready"}
    sdk = client.get("/v1/sdk.js")
    assert sdk.status_code == 200
    assert sdk.headers["content-type"].startswith("text/javascript")
    assert "sendBeacon" in sdk.text and "traceparent" in sdk.text


def test_readiness_fails_when_the_store_is_unreachable(sqlite_url):
    app = create_app(settings(sqlite_url))
    with TestClient(app) as client:
        app.state.store.database._conn.close()  # the store is gone, the process is not
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert "event store unreachable" in response.json()["reason"]
        app.state.store.database._conn = None


def test_analytics_endpoints_answer_for_the_callers_app_only(client):
    other = {"X-API-Key": OTHER_APP_READ_KEY}
    page_load = event("page_load", url="http://app.example/home", metrics={"total": 2000})
    client.post("/v1/events", json={"events": [page_load]}, headers=HEADERS)
    mine = client.get("/v1/analytics/page-loads", params={"window": 600}, headers=READ)
    theirs = client.get("/v1/analytics/page-loads", headers=other)
    assert mine.json() == [
        {"page": "/home", "samples": 1, "avg_load_seconds": 2.0, "p95_load_seconds": 2.0}
    ]
    assert theirs.json() == []
    assert client.get("/v1/analytics/errors").status_code == 401
    assert (
        client.get("/v1/analytics/errors", params={"window": -1}, headers=READ).status_code == 422
    )


def test_nul_in_a_field_the_ingest_ignores_is_no_reason_to_refuse(client, sqlite_url):
    """The schema lets a body carry unknown fields; NUL is refused only where it would be
    stored."""
    body = {"events": [event("long_task", duration=1, note="a\u0000b")], "x\u0000": 1}
    response = client.post("/v1/events", json=body, headers=HEADERS)
    assert response.status_code == 202, response.text
    assert count_rows(sqlite_url) == 1
