"""No identity through any door: generated payloads (the ingest's own events and Grafana Faro's)
hide e-mails, bearer tokens, API keys, card numbers, URL queries and identity attributes in every
field that takes free text or attributes; none of it is found in the store, while the words
around each secret are (the field was stored, and checked)."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from signalcheck.rum_ingest.app import create_app
from signalcheck.rum_ingest.store import EventStore
from tests.rum.conftest import API_KEY, settings

HEADERS = {"X-API-Key": API_KEY}
EXAMPLES = 100  # each sends one batch of every event kind and one Faro payload: ~10 s
LETTERS = "ghijklmnopqrstuvwxyz"  # markers share no character with hex, digits or separators
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
IDENTITY_KEYS = ["user.id", "user.email", "user.name", "user.full_name", "user.roles", "user.hash",
                 "enduser.id", "enduser.role", "userId", "user_name", "email"]  # fmt: skip
BEFORE = [" ", ": ", " (", "\n", ", "]
AFTER = ["", " ", ".", ")", " done"]
Draw = Callable[[st.SearchStrategy], object]


def luhn_digit(digits: str) -> str:
    """The check digit that makes `digits` + it pass the Luhn test."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (1 if position % 2 else 2)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


class Hidden:
    """Builds a payload's text and attributes, and remembers what the store must not hold
    (needles) and what it must (canaries: the words beside each secret)."""

    def __init__(self, draw: Draw):
        self.draw = draw
        self.needles: list[str] = []
        self.canaries: list[str] = []
        self.identities = 0  # identity attributes the stored items carry

    def marker(self, prefix: str) -> str:
        return prefix + self.draw(st.text(LETTERS, min_size=10, max_size=10))

    def needle(self, prefix: str = "n") -> str:
        self.needles.append(found := self.marker(prefix))
        return found

    def canary(self) -> str:
        self.canaries.append(found := self.marker("ok"))
        return found

    def token(self, size: int) -> str:
        """`size` token characters, starting with a marker (a shrunk token stays distinct)."""
        body = self.marker("t") + self.draw(st.text(ALNUM, min_size=size - 11, max_size=size - 11))
        self.needles.append(body)
        return body

    def secret(self) -> str:
        """One secret as it appears in text."""
        kind = self.draw(st.sampled_from(["email", "bearer", "key", "card", "jwt", "query"]))
        if kind == "email":
            return (
                f"{self.needle('u')}@{self.draw(st.sampled_from(['shop.example', 'mail.co.uk']))}"
            )
        if kind == "bearer":
            return f"Bearer {self.token(self.draw(st.integers(12, 40)))}"
        if kind == "jwt":
            return f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.{self.token(20)}"
        if kind == "card":
            digits = "4" + "".join(self.draw(st.text("0123456789", min_size=14, max_size=14)))
            digits += luhn_digit(digits)
            self.needles.append(digits)
            separator = self.draw(st.sampled_from(["", " ", "-"]))
            return separator.join(digits[i : i + 4] for i in range(0, 16, 4))
        if kind == "query":
            place = self.draw(st.sampled_from(["https://shop.example/p", "/search", "/a/b"]))
            return f"{place}?{self.draw(st.sampled_from(['q', 'user', 'x']))}={self.needle('q')}"
        form = self.draw(st.sampled_from(
            ["sk_live_{}", "X-API-Key: {}", "api_key={}", '"apiKey": "{}"', "ghp_{}"]
        ))  # fmt: skip
        size = 36 if form.startswith("ghp") else self.draw(st.integers(16, 40))
        return form.format(self.token(size))

    def text(self) -> str:
        """Words, a secret, maybe more words: at most ~80 characters."""
        before, after = self.draw(st.sampled_from(BEFORE)), self.draw(st.sampled_from(AFTER))
        return f"{self.canary()}{before}{self.secret()}{after}"

    def url(self) -> str:
        """A URL whose path is kept and whose query and fragment hold secrets."""
        path = self.canary()
        if self.draw(st.booleans()):
            path += f"/{self.needle('u')}@shop.example"  # an e-mail in the path
        return f"https://shop.example/{path}?{self.needle('p')}=1&email={self.needle('q')}#x"

    def attributes(self) -> dict[str, str]:
        """A map with identity attributes, a scrubbed value and an e-mail as a key."""
        keys = self.draw(st.sets(st.sampled_from(IDENTITY_KEYS), min_size=1, max_size=4))
        self.identities += len(keys)
        found: dict[str, str] = {key: self.needle("i") for key in keys}
        found["note"] = self.text()
        found[f"{self.needle('u')}@shop.example"] = self.canary()
        return found


@st.composite
def native_batches(draw: Draw) -> tuple[dict, Hidden]:
    """One event of every kind, each free-text and attribute field hiding something."""
    h = Hidden(draw)

    def common(kind: str) -> dict:
        return {
            "type": kind,
            "session_id": "s-" + h.marker(""),
            "timestamp": 1_767_225_600_000,
            "page": {"url": h.url(), "referrer": h.url()},
            "user_agent": f"Mozilla/5.0 {h.text()}",
        }

    vital = {"name": "LCP", "value": 1800.0, "attribution": {**h.attributes(), "delta": 3.5}}
    events = [
        {**common("page_load"), "metrics": {"total": 900.0}},
        {**common("resource_load"),
         "resource": {"name": h.url(), "type": h.text(), "duration": 12.0}},
        {**common("api_call"),
         "api": {"method": "GET", "endpoint": h.url(), "duration": 40.0, "status": 200}},
        {**common("user_interaction"),
         "interaction": {"action": h.text(), "target": h.text(), "duration": 20.0}},
        {**common("error"), "error": {"message": h.text(), "stack": h.text(), "kind": h.text()}},
        {**common("web_vital"), "vital": vital},
        {**common("log"),
         "log": {"level": "warn", "message": h.text(), "context": h.attributes()}},
        {**common("custom_event"),
         "custom": {"name": h.text(), "domain": h.text(), "attributes": h.attributes()}},
        {**common("measurement"),
         "measurement": {"name": h.text(), "value": 3.0, "context": h.attributes()}},
    ]  # fmt: skip
    return {"events": events, "app": {"version": h.text(), "region": h.text()}}, h


@st.composite
def faro_payloads(draw: Draw) -> tuple[dict, Hidden]:
    """Every item kind of a Faro payload, its meta carrying a user and session attributes."""
    h = Hidden(draw)
    user = {"id": h.needle("i"), "email": f"{h.needle('u')}@shop.example",
            "username": h.needle("i"), "fullName": h.needle("i"), "roles": h.needle("i"),
            "hash": h.needle("i"), "attributes": {"plan": h.needle("i")}}  # fmt: skip
    session_attributes = {key: h.needle("i") for key in ("customer", "user.id", "isSampled")}
    meta = {
        "app": {"name": "shop", "version": h.text()},
        "user": user,
        "session": {"id": "faro-" + h.marker(""), "attributes": session_attributes},
        "page": {"url": h.url()},
        "browser": {"name": "Chrome", "userAgent": f"Mozilla/5.0 {h.text()}"},
    }
    trace = {"trace_id": "ab" * 16, "span_id": "cd" * 8}
    fetch = {**h.attributes(), "http.url": h.url(), "http.method": "GET", "duration_ns": "4200"}
    payload = {
        "meta": meta,
        "exceptions": [{
            "type": h.text(), "value": h.text(),
            "stacktrace": {"frames": [{"filename": h.url(), "function": h.text(), "lineno": 3}]},
        }],
        "logs": [{"message": h.text(), "level": "info", "context": h.attributes()}],
        "measurements": [{"type": h.text(), "values": {"v": 1.5}, "context": h.attributes()}],
        "events": [
            {"name": h.text(), "domain": h.text(), "attributes": h.attributes()},
            {"name": "faro.tracing.fetch", "domain": "browser", "attributes": fetch,
             "trace": trace},
        ],
    }  # fmt: skip
    h.identities += len(session_attributes)
    return payload, h


def dropped_identities(client: TestClient) -> float:
    """`rum_ingest_dropped_attributes_total{reason="personal_data"}`, all kinds."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if sample.name == "rum_ingest_dropped_attributes_total"
        and sample.labels["reason"] == "personal_data"
    )


def stored_since(database_url: str, last_id: int) -> tuple[int, str]:
    """The rows stored after `last_id`, read back from the store, as one text; the last id.
    SQLite is read from its file (opening an EventStore starts its writer process)."""
    sql = "SELECT * FROM rum_events WHERE id > :last ORDER BY id"
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=5) as db:
            rows = db.execute(sql, {"last": last_id}).fetchall()
    else:

        async def fetch() -> list[tuple]:
            store = EventStore(database_url)
            await store.open()
            try:
                return await store.database.fetch(sql, {"last": last_id})
            finally:
                await store.close()

        rows = asyncio.run(fetch())
    return (rows[-1][0] if rows else last_id), json.dumps(rows, default=str)


def metric_labels(client: TestClient) -> str:
    """Every label value on /metrics, one a line."""
    families = text_string_to_metric_families(client.get("/metrics").text)
    return "\n".join(
        value
        for family in families
        for sample in family.samples
        for value in sample.labels.values()
    )


def assert_nothing_leaked(dump: str, labels: str, hidden: Hidden) -> None:
    lowered, digits_only = dump.lower(), re.sub(r"[ -]", "", dump)
    for needle in hidden.needles:
        assert needle.lower() not in lowered, f"{needle!r} stored: {dump}"
        assert needle not in digits_only, f"{needle!r} stored: {dump}"
        assert needle not in labels, f"{needle!r} in a label on /metrics"
    for canary in hidden.canaries:
        assert canary in dump, f"{canary!r} (beside a secret) not stored: {dump}"


@pytest.mark.slow
def test_no_identity_from_any_field_of_either_schema_reaches_the_store(sqlite_url):
    last_id = 0
    with TestClient(create_app(settings(sqlite_url))) as client:

        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(native=native_batches(), faro=faro_payloads())
        def send(native: tuple[dict, Hidden], faro: tuple[dict, Hidden]) -> None:
            nonlocal last_id
            dropped = dropped_identities(client)
            (batch, native_hidden), (payload, faro_hidden) = native, faro
            answer = client.post("/v1/events", json=batch, headers=HEADERS)
            assert answer.json() == {"accepted": len(batch["events"])}, answer.text
            answer = client.post("/collect", json=payload, headers=HEADERS)
            assert answer.status_code == 202, answer.text
            assert {"kind": "meta_user", "reason": "personal_data", "count": 1} in answer.json()[
                "dropped"
            ]
            last_id, dump = stored_since(sqlite_url, last_id)
            labels = metric_labels(client)
            for hidden in (native_hidden, faro_hidden):
                assert_nothing_leaked(dump, labels, hidden)
            identities = native_hidden.identities + faro_hidden.identities
            assert dropped_identities(client) - dropped == identities

        send()


FARO_2_TRACING = {
    "meta": {
        "sdk": {"name": "faro-web-sdk", "version": "2.12.1",
                "integrations": [{"name": "@grafana/faro-web-tracing", "version": "2.12.1"}]},
        "app": {"name": "shop", "version": "3.1.0"},
        "user": {"id": "user-42", "username": "heldout", "email": "held.out@shop.example",
                 "attributes": {"plan": "gold-heldout"}},
        "session": {"id": "gTjRCp7Oc6", "attributes": {"isSampled": "true"}},
        "page": {"id": "p-1", "url": "http://127.0.0.1:8080/index.html?coupon=heldout"},
        "browser": {"name": "Chrome", "version": "131.0.0.0", "os": "Linux x86_64",
                    "mobile": False, "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131",
                    "language": "en-US", "viewportWidth": "1280", "viewportHeight": "720"},
        "view": {"name": "default"},
    },
    "events": [{
        "name": "faro.tracing.fetch",
        "domain": "browser",
        "attributes": {
            "component": "fetch", "http.method": "GET",
            "http.url": "http://127.0.0.1:8000/api/cart?owner=heldout",
            "session.id": "gTjRCp7Oc6", "user.id": "user-42", "user.name": "heldout",
            "user.email": "held.out@shop.example", "http.status_code": "200",
            "http.status_text": "OK", "http.host": "127.0.0.1:8000", "http.scheme": "http",
            "http.user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131",
            "http.response_content_length": "17", "duration_ns": "4200000",
        },
        "timestamp": "2026-01-01T10:00:00.004Z",
        "trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"},
    }],
    "traces": {"resourceSpans": [{"scopeSpans": [{
        "scope": {"name": "@opentelemetry/instrumentation-fetch", "version": "0.57.2"},
        "spans": [{"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7",
                   "name": "HTTP GET", "kind": 3,
                   "attributes": [{"key": "user.id", "value": {"stringValue": "user-42"}}]}],
    }]}]},
}  # fmt: skip
"""What faro-web-sdk 2.12.1 with @grafana/faro-web-tracing sends after `setUser` and one
fetch: the span processor copies the user into the span's `user.*` attributes
(faroMetaAttributesSpanProcessor.ts), and the exporter pushes each client span as a
`faro.tracing.<scope>` event with those attributes as strings (faroTraceExporter.utils.ts)."""


def test_faro_2_tracing_with_set_user_stores_no_identity(database_url):
    with TestClient(create_app(settings(database_url))) as client:
        answer = client.post("/collect", json=FARO_2_TRACING, headers=HEADERS)
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"accepted": 1, "dropped": [
            {"kind": "meta_user", "reason": "personal_data", "count": 1},
            {"kind": "trace", "reason": "no_trace_store", "count": 1},
        ]}  # fmt: skip
        metrics = client.get("/metrics").text
    _, dump = stored_since(database_url, 0)
    for identity in ("user-42", "heldout", "held.out", "gold"):
        assert identity not in dump
    [row] = json.loads(dump)
    attributes = json.loads(row[-1])["attributes"]
    assert (row[7], row[10]) == ("custom_event", "faro.tracing.fetch")
    assert attributes["http.url"] == "http://127.0.0.1:8000/api/cart"
    assert attributes["session.id"] == "gTjRCp7Oc6" and attributes["duration_ns"] == "4200000"
    assert not any(key.startswith("user.") for key in attributes)
    assert (
        'rum_ingest_dropped_attributes_total{kind="custom_event",reason="personal_data"} 3.0'
        in (metrics)
    )
    assert 'rum_ingest_dropped_attributes_total{kind="session",reason="personal_data"} 1.0' in (
        metrics
    )
