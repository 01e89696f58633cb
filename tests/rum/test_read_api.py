"""The ingest's read API for validators: one session's events, and the web vitals summary,
answered alike by SQLite and PostgreSQL, for the caller's app only."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from signalcheck.rum_ingest.app import create_app
from tests.rum.conftest import (
    API_KEY,
    OTHER_APP_KEY,
    OTHER_APP_READ_KEY,
    READ_KEY,
    event,
    settings,
)

HEADERS = {"X-API-Key": API_KEY}
READ = {"X-API-Key": READ_KEY}
THEIR_READ = {"X-API-Key": OTHER_APP_READ_KEY}


def vital(name: str, value: float, session: str = "s-1") -> dict:
    return event("web_vital", session=session, vital={"name": name, "value": value})


def test_a_sessions_events_come_back_in_arrival_order_for_its_app_only(database_url):
    call = event(
        "api_call",
        url="http://app.example/orders/12345",
        api={"method": "GET", "endpoint": "http://app.example/api/orders/12345",
             "status": 200, "duration": 42.0, "trace_id": "ab" * 16},
    )  # fmt: skip
    page_load = event("page_load", url="http://app.example/orders/12345", metrics={"total": 1500})
    first = [page_load, call]
    with TestClient(create_app(settings(database_url)), base_url="http://rum.test") as client:
        before = time.time()
        assert client.post("/v1/events", json={"events": first}, headers=HEADERS).status_code == 202
        later = {"events": [vital("FCP", 800), vital("FCP", 5, session="s-2")]}
        assert client.post("/v1/events", json=later, headers=HEADERS).status_code == 202
        other = {"events": [vital("LCP", 900)]}
        assert client.post("/v1/events", json=other, headers={"X-API-Key": OTHER_APP_KEY})

        events = client.get("/v1/sessions/s-1/events", headers=READ).json()
        assert [(e["event_type"], e["name"]) for e in events] == [
            ("page_load", None), ("api_call", "GET /api/orders/{id}"), ("web_vital", "FCP"),
        ]  # fmt: skip
        assert before <= events[0]["received_at"] <= events[2]["received_at"] <= time.time()
        assert events[0]["duration_seconds"] == 1.5 and events[0]["page"] == "/orders/{id}"
        assert (events[1]["trace_id"], events[1]["status"]) == ("ab" * 16, 200)
        assert events[2]["value"] == 800
        theirs = client.get("/v1/sessions/s-1/events", headers=THEIR_READ)
        assert [e["name"] for e in theirs.json()] == ["LCP"]
        assert client.get("/v1/sessions/nobody/events", headers=READ).json() == []
        assert client.get("/v1/sessions/s-1/events").status_code == 401
        assert client.get("/v1/sessions/a%20b/events", headers=READ).status_code == 422


def test_web_vitals_give_samples_nearest_rank_p75_and_the_share_rated_good(database_url):
    values = [vital("TTFB", v) for v in (900.0, 100.0, 300.0, 200.0)]
    values += [vital("CLS", 0.3), vital("CLS", 0.05)]
    with TestClient(create_app(settings(database_url)), base_url="http://rum.test") as client:
        assert (
            client.post("/v1/events", json={"events": values}, headers=HEADERS).status_code == 202
        )
        found = client.get("/v1/analytics/web-vitals", params={"window": 600}, headers=READ)
        # TTFB: ranks 100, 200, 300, 900 -> p75 is the 3rd; good <= 800 ms. CLS: good <= 0.1.
        assert found.json() == [
            {"vital": "CLS", "unit": "", "samples": 2, "p75": 0.3, "good_share": 0.5},
            {"vital": "TTFB", "unit": "s", "samples": 4, "p75": 0.3, "good_share": 0.75},
        ]
        earlier = {"window": 600, "until": time.time() - 3600}
        assert client.get("/v1/analytics/web-vitals", params=earlier, headers=READ).json() == []
        theirs = client.get("/v1/analytics/web-vitals", headers=THEIR_READ)
        assert theirs.json() == []


def test_logs_events_and_measurements_are_counted_per_name_alike_in_both_stores(database_url):
    def log(level: str, message: str, session: str) -> dict:
        return event("log", session=session, log={"level": level, "message": message})

    def custom(name: str, session: str) -> dict:
        return event("custom_event", session=session, custom={"name": name, "domain": "shop"})

    def measured(name: str, value: float) -> dict:
        return event("measurement", measurement={"name": name, "value": value})

    batch = [
        log("warn", "slow cart", "s-1"), log("warn", "slow cart", "s-2"),
        log("warn", "slow cart", "s-2"), log("error", "mail bob@example.com", "s-1"),
        custom("checkout", "s-1"), custom("checkout", "s-1"), custom("session_start", "s-3"),
        *[measured("cart.items", v) for v in (4, 1, 3, 2)], measured("cart.total_eur", -12.5),
    ]  # fmt: skip
    window = {"window": 600}
    with TestClient(create_app(settings(database_url)), base_url="http://rum.test") as client:
        assert client.post("/v1/events", json={"events": batch}, headers=HEADERS).json() == {
            "accepted": len(batch)
        }
        logs = client.get("/v1/analytics/logs", params=window, headers=READ).json()
        assert logs == [
            {"level": "warn", "logs": 3, "sessions": 2},
            {"level": "error", "logs": 1, "sessions": 1},
        ]
        events = client.get("/v1/analytics/events", params=window, headers=READ).json()
        assert events == [
            {"event": "checkout", "count": 2, "sessions": 1},
            {"event": "session_start", "count": 1, "sessions": 1},
        ]
        stats = client.get("/v1/analytics/measurements", params=window, headers=READ).json()
        # cart.items: ranks 1, 2, 3, 4 -> nearest-rank p75 is the 3rd
        assert stats == [
            {"measurement": "cart.items", "samples": 4, "mean": 2.5, "min": 1.0, "max": 4.0,
             "p75": 3.0},
            {"measurement": "cart.total_eur", "samples": 1, "mean": -12.5, "min": -12.5,
             "max": -12.5, "p75": -12.5},
        ]  # fmt: skip
        session = client.get("/v1/sessions/s-1/events", headers=READ).json()
        assert "mail [email]" in [e["message"] for e in session]
        theirs = client.get("/v1/analytics/logs", params=window, headers=THEIR_READ)
        assert theirs.json() == []


READ_PATHS = [
    "/v1/sessions/s-1/events",
    "/v1/analytics/page-loads",
    "/v1/analytics/slowest-endpoints",
    "/v1/analytics/errors",
    "/v1/analytics/web-vitals",
    "/v1/analytics/logs",
    "/v1/analytics/events",
    "/v1/analytics/measurements",
]


@pytest.mark.parametrize("path", READ_PATHS)
def test_an_ingest_key_cannot_read_and_is_told_why(client, path):
    """The ingest key is public (the demo page embeds it): it must read nothing."""
    assert client.post("/v1/events", json={"events": [vital("LCP", 900)]}, headers=HEADERS)
    refused = client.get(path, headers=HEADERS)
    assert refused.status_code == 403
    assert "an ingest key can only send events" in refused.json()["detail"]
    assert "RUM_READ_KEYS" in refused.json()["detail"]
    assert client.get(path, params={"api_key": API_KEY}).status_code == 403
    assert client.get(path, headers=READ).status_code == 200


@pytest.mark.parametrize("path", ["/v1/events", "/collect", f"/collect/{READ_KEY}"])
def test_a_read_key_cannot_send_and_is_told_why(client, path):
    headers = READ if "collect/" not in path else {}
    body = {"events": [vital("LCP", 900)]} if path == "/v1/events" else {"meta": {}}
    refused = client.post(path, json=body, headers=headers)
    assert refused.status_code == 403
    assert "a read key cannot send events" in refused.json()["detail"]
