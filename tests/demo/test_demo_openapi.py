"""The demo's OpenAPI schema documents its bodies and its two bearer tokens, and schemathesis,
driven by that schema against the served demo, finds no 5xx."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from demo_harness import BASE_SETTINGS
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from signalcheck.demo.app import create_app
from tests.schema_fuzz import fuzz
from tests.serving import served

EXAMPLES = 10  # per operation and generation mode: ~150 cases, a few seconds


def demo_app(db: Path):
    return create_app(
        replace(BASE_SETTINGS, db_path=str(db)),
        span_exporter=InMemorySpanExporter(),
        log_exporter=InMemoryLogRecordExporter(),
    )


def test_bodies_and_bearer_tokens_are_in_the_schema(tmp_path):
    schema = demo_app(tmp_path / "demo.db").openapi()
    paths = schema["paths"]
    for path, method in [("/auth/token", "post"), ("/v1/assignments", "post"),
                         ("/admin/faults", "put")]:  # fmt: skip
        body = paths[path][method]["requestBody"]
        assert body["required"] is True
        assert "$ref" in body["content"]["application/json"]["schema"], path
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ClientToken"]["scheme"] == schemes["AdminToken"]["scheme"] == "bearer"
    assert paths["/v1/assignments"]["post"]["security"] == [{"ClientToken": []}]
    assert paths["/admin/faults"]["put"]["security"] == [{"AdminToken": []}]
    assert "security" not in paths["/auth/token"]["post"]


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(tmp_path):
    with served(demo_app(tmp_path / "demo.db"), "the demo") as url:
        token = httpx.post(
            f"{url}/auth/token",
            json={"client_id": "fuzz", "client_secret": BASE_SETTINGS.client_secret},
            timeout=5,
        ).json()["access_token"]
        # the client token everywhere: the admin API must refuse it (401), never fault
        report = fuzz(url, lambda case: {"Authorization": f"Bearer {token}"}, EXAMPLES)
    assert report.server_errors == []
    assert report.cases >= 5 * EXAMPLES, report.statuses
    assert {200, 201, 401, 422} <= set(report.statuses), report.statuses
