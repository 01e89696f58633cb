"""The ingest's OpenAPI schema documents its request bodies and its API key, and schemathesis,
driven by that schema against the served ingest, finds no 5xx."""

from __future__ import annotations

import pytest
from schemathesis import Case

from signalcheck.rum_ingest.app import create_app
from tests.rum.conftest import API_KEY, READ_KEY, settings
from tests.schema_fuzz import fuzz
from tests.serving import served

EXAMPLES = 10  # per operation and generation mode: ~220 cases, 10-20 s on this machine


def resolve(schema: dict, node: dict) -> dict:
    """`node`, or the component its `$ref` names."""
    ref = node.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node


def test_request_bodies_and_the_api_key_are_in_the_schema(sqlite_url):
    schema = create_app(settings(sqlite_url)).openapi()
    events = schema["paths"]["/v1/events"]["post"]
    body = events["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["events"]
    kinds = set(body["properties"]["events"]["items"]["discriminator"]["mapping"])
    assert {"page_load", "web_vital", "error", "log", "custom_event", "measurement"} <= kinds
    log = resolve(
        schema, {"$ref": body["properties"]["events"]["items"]["discriminator"]["mapping"]["log"]}
    )
    assert set(log["required"]) >= {"type", "session_id", "timestamp", "page", "log"}

    collect = schema["paths"]["/collect"]["post"]
    faro = collect["requestBody"]["content"]["application/json"]["schema"]
    assert {"meta", "logs", "exceptions", "measurements", "events", "traces"} <= set(
        faro["properties"]
    )
    assert resolve(schema, collect["responses"]["202"]["content"]["application/json"]["schema"])[
        "properties"
    ].keys() >= {"accepted", "dropped"}

    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": schemes["ApiKey"]["description"],
    }  # fmt: skip
    assert (schemes["ApiKeyQuery"]["in"], schemes["ApiKeyQuery"]["name"]) == ("query", "api_key")
    keyed = [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if {"ApiKey": []} in operation.get("security", [])
    ]
    assert ("/v1/events", "post") in keyed and ("/collect", "post") in keyed
    assert ("/v1/analytics/logs", "get") in keyed and ("/v1/analytics/measurements", "get") in keyed
    assert not any(path.startswith("/health") for path, _ in keyed)


def credentials(case: Case) -> dict[str, str]:
    """The ingest key to send, the read key to read."""
    return {"X-API-Key": API_KEY if case.method.upper() == "POST" else READ_KEY}


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(sqlite_url):
    app = create_app(settings(sqlite_url))
    with served(app, "the RUM ingest") as url:
        report = fuzz(url, credentials, EXAMPLES)
    assert report.server_errors == []
    assert report.cases >= 10 * EXAMPLES, report.statuses
    assert {200, 202, 422} <= set(report.statuses), report.statuses  # reads, writes, refusals
