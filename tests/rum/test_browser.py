"""A real headless Chromium loads the demo page, which loads the SDK from the RUM ingest of the
local stack: what the browser reports arrives in the store, tied to the demo's backend trace."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from signalcheck.backends.capture import CaptureClient
from signalcheck.config import Config, load_config
from signalcheck.stack import LocalStack
from signalcheck.waiting import wait_for
from tests.support import launch_chromium, write_stack_config

pytestmark = [pytest.mark.stack, pytest.mark.slow]

REGION = "us-east-1"
ARRIVAL_TIMEOUT = 20.0  # the SDK flushes every 3 s; the demo exports spans every 0.2 s


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[Config, LocalStack]]:
    config = load_config(write_stack_config(tmp_path_factory.mktemp("rum-stack")), environ={})
    local = LocalStack(config)
    local.up()
    try:
        yield config, local
    finally:
        local.down()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def stored_events(local: LocalStack, session: str) -> list[dict]:
    with sqlite3.connect(local.data_dir / "rum.db", timeout=5) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM rum_events WHERE session_id = ?", (session,)).fetchall()
    return [dict(row) for row in rows]


def open_demo_page(browser: Browser, config: Config):
    """The demo page, loaded, with its status fetch answered; returns (page, RUM session id)."""
    page = browser.new_page()
    page.goto(str(config.regions[REGION].base_url))
    page.wait_for_function("window.signalcheckRum !== undefined", timeout=10_000)
    page.wait_for_selector("#status.ready", timeout=10_000)
    return page, page.evaluate("window.signalcheckRum.sessionId")


def test_page_load_vitals_and_a_traced_api_call_arrive(stack, browser):
    config, local = stack
    page, session = open_demo_page(browser, config)

    def reported():
        events = stored_events(local, session)
        kinds = {e["event_type"] for e in events}
        vitals = {e["name"] for e in events if e["event_type"] == "web_vital"}
        return events if {"page_load", "api_call"} <= kinds and {"FCP", "TTFB"} <= vitals else None

    events, _ = wait_for(reported, timeout=ARRIVAL_TIMEOUT, what=f"RUM events of session {session}")
    page.close()
    page_load = next(e for e in events if e["event_type"] == "page_load")
    assert page_load["app"] == "demo-web"
    assert page_load["region"] == REGION
    assert page_load["page"] == "/"
    assert 0 < page_load["duration_us"] < 60_000_000
    call = next(e for e in events if e["event_type"] == "api_call")
    assert call["name"] == "GET /health/ready"
    assert call["status"] == 200
    assert call["trace_id"] and len(call["trace_id"]) == 32

    with CaptureClient(config.backends.capture) as capture:
        spans, _ = wait_for(
            lambda: capture.trace(call["trace_id"]),
            timeout=ARRIVAL_TIMEOUT,
            what=f"the demo's trace {call['trace_id']} in the capture receiver",
        )
    server = [s for s in spans if s["kind"] == "SERVER"]
    assert [s["name"] for s in server] == ["GET /health/ready"]
    assert server[0]["service"] == "demo-api"
    assert server[0]["resource"]["cloud.region"] == REGION


def test_events_sent_at_pagehide_arrive(stack, browser):
    config, local = stack
    page, session = open_demo_page(browser, config)
    page.click("h1")  # queued, and the next timed flush is seconds away...
    page.goto("about:blank")  # ...so only the pagehide / visibilitychange flush can send it

    def after_leaving():
        events = stored_events(local, session)
        clicks = [e for e in events if e["event_type"] == "user_interaction"]
        vitals = {e["name"] for e in events if e["event_type"] == "web_vital"}
        return events if clicks and {"LCP", "CLS"} <= vitals else None

    events, _ = wait_for(after_leaving, timeout=ARRIVAL_TIMEOUT, what="events sent at pagehide")
    page.close()
    click = next(e for e in events if e["event_type"] == "user_interaction")
    assert click["name"] == "click"
    assert '"target":"h1"' in click["attributes"]


FETCH_AND_XHR = """async () => {
    const out = {};
    const request = new Request("/health", {headers: {"X-Probe": "1"}});
    out.request = (await fetch(request)).status;
    out.init = (await fetch("/health/ready", {headers: {Accept: "application/json"}})).status;
    out.xhr = await new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open("GET", "/auth/token");
        xhr.onload = () => resolve(xhr.status);
        xhr.send();
    });
    try {
        await fetch("http://127.0.0.1:9/unreachable");
        out.unreachable = "resolved";
    } catch (error) {
        out.unreachable = error.name;
    }
    window.signalcheckRum.flush();
    return out;
}"""


def test_wrapped_fetch_and_xhr_behave_like_the_originals_and_are_traced(stack, browser):
    config, local = stack
    page, session = open_demo_page(browser, config)
    result = page.evaluate(FETCH_AND_XHR)
    assert result == {"request": 200, "init": 200, "xhr": 405, "unreachable": "TypeError"}

    def calls():
        found = {
            e["name"]: e for e in stored_events(local, session) if e["event_type"] == "api_call"
        }
        wanted = {"GET /health", "GET /auth/token", "GET 127.0.0.1/unreachable"}
        return found if wanted <= set(found) else None

    found, _ = wait_for(calls, timeout=ARRIVAL_TIMEOUT, what="the page's fetch and XHR calls")
    page.close()
    assert found["GET /auth/token"]["status"] == 405
    unreachable = found["GET 127.0.0.1/unreachable"]
    assert (unreachable["status"], unreachable["trace_id"]) == (0, None)  # no traceparent sent
    with CaptureClient(config.backends.capture) as capture:
        for name in ("GET /health", "GET /auth/token"):
            trace_id = found[name]["trace_id"]
            spans, _ = wait_for(
                lambda trace_id=trace_id: capture.trace(trace_id),
                timeout=ARRIVAL_TIMEOUT,
                what=f"trace {trace_id} of {name}",
            )
            assert any(s["kind"] == "SERVER" for s in spans)


def test_a_batch_refused_with_503_is_retried_after_a_backoff(stack, browser):
    config, local = stack
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    attempts: list[tuple[float, int]] = []

    def refuse_first(route):
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        attempts.append((time.monotonic(), len(request.post_data or "")))
        if len(attempts) == 1:
            origin = request.headers.get("origin", "*")
            route.fulfill(
                status=503,
                body='{"detail": "event store unavailable"}',
                headers={
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Expose-Headers": "Retry-After",
                    "Retry-After": "1",
                },
            )
        else:
            route.continue_()

    page.route("**/v1/events", refuse_first)
    page.goto(str(config.regions[REGION].base_url))
    page.wait_for_function("window.signalcheckRum !== undefined", timeout=10_000)
    session = page.evaluate("window.signalcheckRum.sessionId")

    def retried_page_load():
        page.wait_for_timeout(200)  # the sync API runs route handlers only inside its calls
        return [e for e in stored_events(local, session) if e["event_type"] == "page_load"]

    wait_for(
        retried_page_load,
        timeout=ARRIVAL_TIMEOUT,
        what="the page_load of the refused batch, retried",
    )
    page.close()
    assert len(attempts) >= 2
    assert attempts[1][0] - attempts[0][0] >= 0.9  # Retry-After: 1 was honoured
    assert errors == []  # nothing thrown into the page
