"""The ingest's OpenAPI schema documents its request bodies, their constraints, every status of
every route and both key roles; schemathesis with every check, driven by that schema against
`signalcheck rum serve` on each store, finds nothing the service does that the schema denies."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from signalcheck.rum_ingest.app import create_app
from tests.rum.conftest import API_KEY, READ_KEY, settings, start_ingest
from tests.support import free_port

EXAMPLES = 20  # per operation and phase: ~2,600 cases, ~15 s a store on this machine
SEED = 1  # the same cases every run: a failure reproduces (`st replay` names its case)
RUN_TIMEOUT = 240.0
SCHEMATHESIS_CONFIG = """
[auth.openapi.IngestKey]
api_key = "${RUM_TEST_INGEST_KEY}"
[auth.openapi.ReadKey]
api_key = "${RUM_TEST_READ_KEY}"
[[operations]]
include-path = "/collect/{api_key}"
parameters = { "path.api_key" = "${RUM_TEST_INGEST_KEY}" }
"""
"""Each operation gets the key of its role, by the security scheme it declares."""
SEND_REFUSALS = {"400", "401", "403", "413", "415", "422", "429", "503"}


def resolve(schema: dict, node: dict) -> dict:
    """`node`, or the component its `$ref` names."""
    ref = node.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node


def test_request_bodies_statuses_and_both_key_roles_are_in_the_schema(sqlite_url):
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
    assert schemes["IngestKey"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": schemes["IngestKey"]["description"],
    }  # fmt: skip
    assert (schemes["ReadKeyQuery"]["in"], schemes["ReadKeyQuery"]["name"]) == ("query", "api_key")
    roles = {
        (path, method): {name for need in operation.get("security", []) for name in need}
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert (
        roles["/v1/events", "post"] == roles["/collect", "post"] == {"IngestKey", "IngestKeyQuery"}
    )
    assert roles["/v1/analytics/logs", "get"] == {"ReadKey", "ReadKeyQuery"}
    assert roles["/health", "get"] == roles["/collect/{api_key}", "post"] == set()

    for path in ("/v1/events", "/collect", "/collect/{api_key}"):
        responses = schema["paths"][path]["post"]["responses"]
        assert set(responses) == {"202"} | SEND_REFUSALS, path
        assert responses["429"]["headers"]["Retry-After"]["required"]
    refusal = schema["paths"]["/v1/analytics/logs"]["get"]["responses"]["422"]
    assert resolve(schema, refusal["content"]["application/json"]["schema"])["properties"] == {
        "detail": {"title": "Detail", "type": "string"}
    }
    vital = resolve(schema, {"$ref": "#/components/schemas/Vital"})
    assert vital["properties"]["name"].get("pattern") is None  # an enum needs none
    message = resolve(schema, {"$ref": "#/components/schemas/LogDetail"})["properties"]["message"]
    assert message["pattern"] == "^[^\\u0000]*$"  # NUL is refused


def test_a_refusal_body_matches_its_schema_for_a_parameter_too(client):
    """FastAPI's own 422 (a list of errors) is answered like every refusal: one line."""
    response = client.get(
        "/v1/analytics/logs", params={"window": "soon"}, headers={"X-API-Key": READ_KEY}
    )
    assert response.status_code == 422
    assert response.json() == {"detail": "query.window: Input should be a valid number, "
                               "unable to parse string as a number"}  # fmt: skip
    boolean = {"events": [{"type": "measurement", "session_id": "s", "timestamp": 1,
               "page": {"url": "/"}, "measurement": {"name": "m", "value": False}}]}  # fmt: skip
    response = client.post("/v1/events", json=boolean, headers={"X-API-Key": API_KEY})
    assert response.status_code == 422 and "valid number" in response.json()["detail"]


@pytest.mark.slow
def test_schemathesis_with_every_check_finds_nothing(database_url, tmp_path: Path):
    port = free_port()
    ingest = start_ingest(
        database_url, port, tmp_path / "ingest.log", RUM_READ_KEYS=f"web={READ_KEY}"
    )
    (tmp_path / "schemathesis.toml").write_text(SCHEMATHESIS_CONFIG)
    argv = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file", str(tmp_path / "schemathesis.toml"),
        "run", f"http://127.0.0.1:{port}/openapi.json",
        "--checks", "all", "--max-examples", str(EXAMPLES), "--seed", str(SEED),
        "--request-timeout", "5", "--wait-for-schema", "10", "--no-color",
    ]  # fmt: skip
    environment = {**os.environ, "RUM_TEST_INGEST_KEY": API_KEY, "RUM_TEST_READ_KEY": READ_KEY}
    try:
        run = subprocess.run(
            argv, env=environment, cwd=tmp_path, capture_output=True, text=True,
            timeout=RUN_TIMEOUT,
        )  # fmt: skip
    finally:
        ingest.terminate()
        ingest.wait(timeout=10)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert generated, run.stdout[-3000:]
    assert int(generated.group(1)) == int(generated.group(2)) >= 1000, generated.group(0)
    assert "Selected: 15/15" in run.stdout and "Tested: 15" in run.stdout
