"""Property-based fuzzing of the ingest edge: 2,000+ generated requests, in-process.

Whatever comes in, the answer is never a 5xx, a rejected request stores nothing, and an
accepted one stores exactly the events it carried.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from signalcheck.rum_ingest.app import create_app
from tests.rum.conftest import API_KEY, settings

pytestmark = pytest.mark.slow  # about 20 s

EXAMPLES = 2000
TYPES = ["page_load", "resource_load", "long_task", "api_call", "user_interaction", "error",
         "web_vital"]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["http://a.example/x/1?q=1#f", "/p/2", "", "x" * 3000, "a\u0000b", "ftp://[::1"]
    ),
    json_values,
)
numbers = st.one_of(
    st.floats(min_value=-10, max_value=4e6, allow_nan=False), st.integers(-5, 10**16), json_values
)
event = st.fixed_dictionaries(
    {
        "type": st.sampled_from([*TYPES, "bogus"]),
        "session_id": st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True), texts),
        "timestamp": st.one_of(st.integers(0, 2**53), st.integers(-10, 2**64), json_values),
        "page": st.one_of(st.fixed_dictionaries({"url": texts}), json_values),
    },
    optional={
        "metrics": st.fixed_dictionaries({"total": numbers}, optional={"ttfb": numbers}),
        "api": st.fixed_dictionaries(
            {"method": st.sampled_from(["GET", "post", "PATCH", ""]), "endpoint": texts,
             "duration": numbers, "status": st.integers(-1, 700)},
            optional={"trace_id": st.one_of(st.just("ab" * 16), texts)},
        ),
        "vital": st.fixed_dictionaries(
            {"name": st.sampled_from(["LCP", "INP", "CLS", "FCP", "TTFB", "FID"]), "value": numbers}
        ),
        "error": st.fixed_dictionaries({"message": texts}, optional={"stack": texts}),
        "resource": st.fixed_dictionaries(
            {"name": texts, "type": texts, "duration": numbers}, optional={"size": numbers}
        ),
        "interaction": st.fixed_dictionaries({"action": texts, "target": texts}),
        "duration": numbers,
        "user_agent": texts,
        "viewport": st.one_of(
            st.fixed_dictionaries({"width": st.integers(-1, 10**6), "height": st.integers(0, 99)}),
            json_values,
        ),
    },
)  # fmt: skip
batches = st.fixed_dictionaries(
    {"events": st.lists(event, max_size=6)},
    optional={"app": st.one_of(st.fixed_dictionaries({"version": texts}), json_values)},
)
common = st.fixed_dictionaries(
    {
        "session_id": st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
        "timestamp": st.integers(0, 2**53 - 1),
        "page": st.fixed_dictionaries({"url": st.text(min_size=1, max_size=80)}),
    }
)
durations = st.floats(min_value=0, max_value=3.6e6)
valid_events = st.tuples(
    common,
    st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("page_load"), "metrics": st.fixed_dictionaries({"total": durations})}
        ),
        st.fixed_dictionaries(
            {"type": st.just("error"), "error": st.fixed_dictionaries({"message": st.text()})}
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("api_call"),
                "api": st.fixed_dictionaries(
                    {
                        "method": st.sampled_from(["GET", "POST"]),
                        "endpoint": st.text(min_size=1, max_size=80),
                        "duration": durations,
                        "status": st.integers(0, 599),
                    }
                ),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("web_vital"),
                "vital": st.fixed_dictionaries(
                    {
                        "name": st.sampled_from(["LCP", "INP", "CLS", "FCP", "TTFB"]),
                        "value": durations,
                    }
                ),
            }
        ),
    ),
).map(lambda parts: {**parts[0], **parts[1]})
valid_batches = st.fixed_dictionaries({"events": st.lists(valid_events, min_size=1, max_size=5)})
vital_values = st.dictionaries(st.sampled_from(["lcp", "cls", "inp", "x"]), numbers, max_size=3)
faro_timestamps = st.sampled_from(["2026-01-01T00:00:00Z", "soon", ""])
faro_attributes = st.dictionaries(
    st.sampled_from(["duration", "name", "initiatorType", "ttfb"]),
    st.one_of(st.text(max_size=8), st.sampled_from(["12.5", "-1"])),
)
faro_event_names = st.sampled_from(
    ["faro.performance.navigation", "faro.performance.resource", "x"]
)
faro_meta = st.one_of(
    st.fixed_dictionaries({"page": st.fixed_dictionaries({"url": texts})}), json_values
)
faro_events = st.fixed_dictionaries({"name": faro_event_names, "attributes": faro_attributes})
faro = st.fixed_dictionaries(
    {"meta": faro_meta},
    optional={
        "measurements": st.lists(st.fixed_dictionaries(
            {"type": st.sampled_from(["web-vitals", "custom"]), "values": vital_values},
            optional={"timestamp": faro_timestamps},
        ), max_size=3),
        "exceptions": st.lists(st.fixed_dictionaries({"type": texts, "value": texts}), max_size=2),
        "events": st.lists(faro_events, max_size=3),
    },
)  # fmt: skip
content_types = ["application/json", "text/plain;charset=UTF-8", "application/xml", None]
requests = st.fixed_dictionaries(
    {
        "path": st.sampled_from(["/v1/events", "/v1/events", "/collect"]),
        "key": st.sampled_from([API_KEY] * 6 + [None, "wrong-key-0123456789abc", ""]),
        "content_type": st.sampled_from([content_types[0], *content_types]),
        "body": st.one_of(
            valid_batches.map(json.dumps), batches.map(json.dumps), faro.map(json.dumps),
            json_values.map(json.dumps), st.binary(max_size=64),
        ),
    }
)  # fmt: skip


def test_fuzzed_requests_never_5xx_and_rejected_ones_store_nothing(sqlite_url):
    app = create_app(settings(sqlite_url))
    statuses: Counter[int] = Counter()
    db_path = sqlite_url.removeprefix("sqlite:///")
    with TestClient(app) as client, sqlite3.connect(db_path) as db:

        def rows() -> int:
            return db.execute("SELECT COUNT(*) FROM rum_events").fetchone()[0]

        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request=requests)
        def send(request: dict) -> None:
            headers = {"X-API-Key": request["key"]} if request["key"] is not None else {}
            if request["content_type"]:
                headers["Content-Type"] = request["content_type"]
            before = rows()
            response = client.post(request["path"], content=request["body"], headers=headers)
            statuses[response.status_code] += 1
            assert response.status_code < 500, response.text
            if response.status_code == 202:
                assert rows() - before == response.json()["accepted"]
            else:
                assert 400 <= response.status_code < 500
                assert response.json()["detail"], "a rejection must say why"
                assert rows() == before

        send()
    assert sum(statuses.values()) >= EXAMPLES
    assert statuses[202] >= 50, statuses  # the valid path was exercised too
    assert {400, 401, 415, 422} <= set(statuses), statuses
