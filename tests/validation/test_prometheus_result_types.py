"""The Prometheus client reads every result type of the query API, or fails saying what to query.

Bodies follow prometheus/prometheus docs/querying/api.md, "Expression query result formats"
(sections Range vectors, Instant vectors, Scalars, Strings and Native histograms: the
`histogram` / `histograms` keys and the `{"count", "sum", "buckets"}` object, in the API since
Prometheus v2.40), filled in with the values of that document's examples.
"""

from __future__ import annotations

import pytest

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Backend
from signalcheck.errors import PrometheusResultError
from tests.validation.documented_api import canned_server

HISTOGRAM = {
    "count": "3",
    "sum": "0.7",
    "buckets": [[0, "0.125", "0.25", "1"], [0, "0.25", "0.5", "2"]],
}


def _answer(result_type: str, result) -> dict:
    return {"status": "success", "data": {"resultType": result_type, "result": result}}


def _query(body: dict, path: str = "/api/v1/query"):
    with (
        canned_server({path: (200, body)}) as server,
        PrometheusClient(Backend(url=server.url)) as p,
    ):
        if path.endswith("query_range"):
            return p.query_range("q", 1435781430, 1435781460, 15)
        return p.query("q")


def test_a_vector_is_read_as_float_samples():
    body = _answer(
        "vector",
        [
            {"metric": {"__name__": "up", "job": "prometheus", "instance": "localhost:9090"},
             "value": [1435781451.781, "1"]},
            {"metric": {"__name__": "up", "job": "node", "instance": "localhost:9100"},
             "value": [1435781451.781, "0"]},
        ],
    )  # fmt: skip
    samples = _query(body)
    assert [(s["metric"]["job"], float(s["value"][1])) for s in samples] == [
        ("prometheus", 1.0),
        ("node", 0.0),
    ]


def test_a_scalar_is_one_sample_without_labels():
    assert _query(_answer("scalar", [1435781451.781, "42"])) == [
        {"metric": {}, "value": [1435781451.781, "42"]}
    ]


def test_a_string_result_is_a_clear_error_not_a_key_error():
    with pytest.raises(PrometheusResultError, match=r"result type 'string'.*not numbers"):
        _query(_answer("string", [1435781451.781, "hello"]))


def test_a_range_vector_at_one_instant_keeps_its_values_and_its_latest_as_value():
    values = [[1435781430.781, "1"], [1435781445.781, "0"]]
    body = _answer("matrix", [{"metric": {"job": "node"}, "values": values}])
    (series,) = _query(body)
    assert series["values"] == values
    assert series["value"] == [1435781445.781, "0"]


def test_native_histogram_samples_in_an_instant_query_name_what_to_query_instead():
    body = _answer(
        "vector",
        [{"metric": {"__name__": "http_request_duration_seconds", "job": "demo"},
          "histogram": [1435781451.781, HISTOGRAM]}],
    )  # fmt: skip
    with pytest.raises(PrometheusResultError) as raised:
        _query(body)
    message = str(raised.value)
    assert "1 native-histogram sample(s)" in message
    assert "http_request_duration_seconds" in message and "histogram_count()" in message


def test_a_range_query_reads_float_series_and_refuses_histogram_ones():
    floats = _answer(
        "matrix",
        [{"metric": {"job": "node"},
          "values": [[1435781430.781, "1"], [1435781445.781, "1"], [1435781460.781, "1"]]}],
    )  # fmt: skip
    (series,) = _query(floats, "/api/v1/query_range")
    assert series["values"][-1] == [1435781460.781, "1"]
    mixed = _answer(
        "matrix",
        [{"metric": {"job": "demo"},
          "values": [[1435781430.781, "1"]],
          "histograms": [[1435781445.781, HISTOGRAM]]}],
    )  # fmt: skip
    with pytest.raises(PrometheusResultError, match="native-histogram samples in 1 series"):
        _query(mixed, "/api/v1/query_range")
