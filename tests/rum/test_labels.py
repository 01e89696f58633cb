"""Metric labels stay bounded: URLs fold to route templates, and a cap folds the rest to `other`."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from signalcheck.rum_ingest.app import create_app
from signalcheck.rum_ingest.routes import OTHER, LabelCap, RouteFolder
from tests.rum.conftest import API_KEY, event, settings

CAP = 25


@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("https://a.example/", "/"),
        ("https://a.example/orders/12345/items/", "/orders/{id}/items"),
        ("/v1/assignments/8f14e45f-ceea-4f67-9e3c-1a2b3c4d5e6f", "/v1/assignments/{uuid}"),
        ("/assets/app.3f9a8c1d2e7b.js", "/assets/{id}"),  # fingerprinted: one per deploy
        ("/blobs/3f9a8c1d2e7b4a60", "/blobs/{hash}"),
        ("/reset/AbCdEf0123456789xYzAbCdE", "/reset/{token}"),
        ("/archive/2024-01-31", "/archive/{id}"),
        ("/users/[email]/settings", "/users/{redacted}/settings"),
        ("/a/b/c/d/e/f/g/h/i/j", "/a/b/c/d/e/f/g/h/{rest}"),
        ("/docs/getting-started?utm=1#intro", "/docs/getting-started"),
    ],
)
def test_urls_fold_to_route_templates(url, template):
    assert RouteFolder().path(url) == template


def test_configured_templates_win_over_the_generic_rules():
    routes = RouteFolder(["/u/{name}/profile"])
    assert routes.path("https://a.example/u/alice/profile") == "/u/{name}/profile"
    assert routes.path("https://a.example/u/alice/photos") == "/u/alice/photos"


def test_a_cross_origin_endpoint_keeps_its_host():
    routes = RouteFolder()
    assert (
        routes.endpoint("https://api.example/v1/x/1", "https://a.example/")
        == "api.example/v1/x/{id}"
    )
    assert routes.endpoint("https://a.example/v1/x/1", "https://a.example/p") == "/v1/x/{id}"


def test_the_cap_counts_other_among_the_values():
    cap = LabelCap(3)
    assert [cap(v) for v in ("a", "b", "c", "a", "d")] == ["a", "b", OTHER, "a", OTHER]


def test_ten_thousand_distinct_page_urls_keep_page_labels_within_the_cap(sqlite_url):
    app = create_app(settings(sqlite_url, label_cap=CAP))
    with TestClient(app) as client:
        for batch in range(100):
            events = [
                event("page_load", url=f"https://a.example/section-{batch}/page-{n}",
                      metrics={"total": 100})
                for n in range(100)
            ]  # fmt: skip
            response = client.post(
                "/v1/events", json={"events": events}, headers={"X-API-Key": API_KEY}
            )
            assert response.status_code == 202
        metrics = client.get("/metrics").text
    pages = set(
        re.findall(r'^rum_events_total\{event_type="page_load",page="([^"]*)"\}', metrics, re.M)
    )
    load_pages = set(re.findall(r'^rum_page_load_seconds_count\{page="([^"]*)"\}', metrics, re.M))
    assert len(pages) == CAP  # the cap is reached, not exceeded
    assert OTHER in pages
    assert load_pages == pages
    other = re.search(r'rum_events_total\{event_type="page_load",page="other"\} (\S+)', metrics)
    assert float(other.group(1)) == 10_000 - (CAP - 1)
