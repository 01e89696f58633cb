"""Loki log checks read lines as Loki and the OTel Collector's Loki exporter really write them.

- `categorize-labels` entries: the third element of a stream value holds `structuredMetadata`
  and `parsed` (grafana/loki pkg/util/marshal/marshal_test.go `queryTestWithEncodingFlags`).
- exporter lines, verbatim from open-telemetry/opentelemetry-collector-contrib
  pkg/translator/loki/encode_test.go (commit 355081bf): `TestEncodeJsonWithStringBody` (JSON,
  `traceid`) and `TestEncodeLogfmtWithStringBody` (logfmt, `traceID`).
- a result cut at `limit`: query_range answers at most `limit` lines from `start`
  (inclusive) to `end` (exclusive), grafana/loki docs/sources/reference/loki-http-api.md.
"""

from __future__ import annotations

import pytest

from signalcheck.config import load_config
from signalcheck.errors import ConfigError
from signalcheck.evidence.logs import check_logs
from signalcheck.expectations import LogExpectation
from signalcheck.ledger import Entry
from tests.validation.documented_api import canned_server
from tests.validation.test_clients_documented_apis import _paged_loki
from tests.validation.test_trace_log_evidence import (
    END,
    LOKI_OK,
    REGION,
    TRACE_ID,
    _check_loki,
    _context,
    _loki_streams,
    _probe,
)

EXPORTER_TRACE = "01020304000000000000000000000000"
EXPORTER_JSON = (
    '{"body":"Example log","traceid":"01020304000000000000000000000000",'
    '"spanid":"0506070800000000","severity":"error","attributes":{"attr1":"1","attr2":"2"},'
    '"resources":{"host.name":"something"},'
    '"instrumentation_scope":{"name":"example-logger-name","version":"v1"}}'
)
EXPORTER_LOGFMT = (
    'msg="hello world" traceID=01020304000000000000000000000000 spanID=0506070800000000 '
    "severity=error attribute_attr1=1 attribute_attr2=2 resource_host.name=something "
    "instrumentation_scope_name=example-logger-name instrumentation_scope_version=v1"
)
NS = str(int((END - 0.2) * 1e9))


def _exporter_probe() -> Entry:
    return Entry(ts=END, kind="probe", check="c", region=REGION, trace_id=EXPORTER_TRACE,
                 start=END - 0.5, end=END, outcome="success", error_class=None)  # fmt: skip


@pytest.mark.parametrize(
    ("line", "body"), [(EXPORTER_JSON, "Example log"), (EXPORTER_LOGFMT, "hello world")],
    ids=["json-traceid", "logfmt-traceID"],
)  # fmt: skip
def test_exporter_lines_carry_the_trace_id_and_fields(tmp_path, line, body):
    stream = {"exporter": "OTLP", "level": "ERROR", "cloud_region": REGION}
    outcome = _check_loki(
        tmp_path, _loki_streams([[NS, line]], stream), [_exporter_probe()],
        evidence="carry_trace_ids", logql='{exporter="OTLP"} |= "{trace_id}"',
        fields=["trace_id", "span_id", "attr1", "host.name"], budget=0.5,
    )  # fmt: skip
    assert outcome.passed, outcome.summary
    assert f'"body": "{body}"' in outcome.observed
    assert '"span_id": "0506070800000000"' in outcome.observed


def test_exporter_logfmt_error_severity_is_an_error(tmp_path):
    outcome = _check_loki(
        tmp_path, _loki_streams([[NS, EXPORTER_LOGFMT]], {"exporter": "OTLP", "region": REGION}),
        [_exporter_probe()], evidence="no_errors", logql='{exporter="OTLP"}', settle=0.1,
        budget=1,
    )  # fmt: skip
    assert not outcome.passed
    assert f"ERROR {REGION} 'hello world'" in outcome.summary


def test_trace_id_and_level_only_in_structured_metadata_are_seen(tmp_path):
    meta = {"structuredMetadata": {"trace_id": TRACE_ID, "detected_level": "error"}}
    body = _loki_streams([[NS, "payment failed", meta]], {"service_name": "demo-api",
                                                           "region": REGION})  # fmt: skip
    body["data"]["encodingFlags"] = ["categorize-labels"]
    carried = _check_loki(tmp_path, body, [_probe()], evidence="carry_trace_ids",
                          logql='{service_name="demo-api"}', fields=["trace_id"],
                          budget=0.5)  # fmt: skip
    assert carried.passed, carried.summary
    errors = _check_loki(tmp_path, body, [_probe()], evidence="no_errors",
                         logql='{service_name="demo-api"}', settle=0.1, budget=1)  # fmt: skip
    assert not errors.passed
    assert "1 error-level record(s)" in errors.summary and "'payment failed'" in errors.summary


@pytest.mark.parametrize(
    ("stream", "exp", "passed"),
    [
        ({"region": REGION}, {}, True),
        ({"cloud_region": REGION}, {}, True),
        ({"az": REGION}, {"region_label": "az"}, True),
        ({"az": REGION}, {}, False),
        ({"region": "us-east-1"}, {}, False),
    ],
    ids=["default-region", "cloud_region", "configured-label", "unknown-label", "other-region"],
)
def test_the_region_label_is_configurable(tmp_path, stream, exp, passed):
    line = f'{{"message": "ok", "trace_id": "{TRACE_ID}"}}'
    outcome = _check_loki(
        tmp_path, _loki_streams([[NS, line]], {"service_name": "demo-api", **stream}),
        [_probe()], evidence="carry_trace_ids", logql='{service_name="demo-api"}', budget=0.3,
        **exp,
    )  # fmt: skip
    assert outcome.passed is passed, outcome.summary


def test_region_label_config_error_names_file_key_and_form(tmp_path):
    path = tmp_path / "signalcheck.yaml"
    path.write_text(
        'regions:\n  eu-west-1: {base_url: "http://127.0.0.1:18002"}\n'
        "expectations:\n  logs:\n    - {name: l, evidence: no_errors, region_label: cloud.region}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "expectations.logs.0.region_label: String should match pattern" in message


def test_an_error_past_the_first_limit_lines_is_found(tmp_path):
    """1,500 info lines in the window with an error at line 1,200: the answer is cut at
    limit=1000, so the check pages on and finds it."""
    first = int((END - 0.4) * 1e9)
    stored = [(first + i, '{"level": "info", "message": "fine"}') for i in range(1500)]
    stored[1199] = (first + 1199, '{"level": "error", "message": "line 1200 failed"}')
    routes = {"/loki/api/v1/labels": (200, LOKI_OK),
              "/loki/api/v1/query_range": _paged_loki(stored)}  # fmt: skip
    with canned_server(routes) as server:
        ctx = _context(tmp_path, [_probe()], loki={"url": server.url})
        outcome = check_logs(
            LogExpectation(name="l", backend="loki", evidence="no_errors",
                           logql='{job="varlogs"}', settle=0.1, budget=2, region_attribute=None),
            ctx,
        )  # fmt: skip
    assert not outcome.passed
    assert "'line 1200 failed'" in outcome.summary
    assert len([r for r in server.requests if r.path.endswith("query_range")]) == 2
