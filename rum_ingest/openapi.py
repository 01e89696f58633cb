"""The ingest's OpenAPI document says what the service does: the request bodies it reads itself,
their real constraints, and every status a route answers with its body.

`/v1/events` and `/collect` read their bodies themselves (media type, encoding and size are
checked before any parsing), so FastAPI cannot see them; their schemas are added here, with the
models' definitions among the schema's components. No string of a body may hold NUL (the edge
refuses it: PostgreSQL cannot store it), which the schema says with a pattern on every string.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter

from signalcheck.rum_ingest.answers import Rejection

REF_TEMPLATE = "#/components/schemas/{model}"
NO_NUL = "^[^\\u0000]*$"
"""The pattern of every body string without one: NUL is refused (422)."""
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before sending again",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
REFUSALS = {
    400: "The body is not JSON, or not whole gzip",
    401: "No API key, or an unknown one",
    403: "A key of the other role (an ingest key cannot read, a read key cannot send)",
    413: "The body is larger than 256 KiB (once decompressed)",
    415: "Content-Type is not application/json or text/plain, or Content-Encoding is neither "
    "gzip nor identity",
    422: "A field fails validation (the first reasons, as text), or a string holds NUL",
    429: "The app's rate limit is exceeded: retry after Retry-After seconds",
    503: "The event store is behind or unavailable: retry after Retry-After seconds",
}
SEND = (400, 401, 403, 413, 415, 422, 429, 503)
"""What a POST of events may be refused with."""
READ = (401, 403, 422)
"""What a read may be refused with."""


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses` for these refusals, each a `Rejection` with its reason."""
    return {
        status: {
            "model": Rejection,
            "description": REFUSALS[status],
            **({"headers": RETRY_AFTER} if status in (429, 503) else {}),
        }
        for status in statuses
    }


def no_nul(schema: object) -> None:
    """Give every string schema (property names too) without a pattern, enum or const the
    pattern that refuses NUL, in place."""
    if isinstance(schema, list):
        for item in schema:
            no_nul(item)
    elif isinstance(schema, dict):
        if schema.get("type") == "string" and not {"pattern", "enum", "const"} & schema.keys():
            schema["pattern"] = NO_NUL
        names = schema.get("propertyNames")
        if isinstance(names, dict) and "pattern" not in names:
            names["pattern"] = NO_NUL
        for value in schema.values():
            no_nul(value)


def document_bodies(app: FastAPI, bodies: dict[str, TypeAdapter[object]]) -> None:
    """Document the JSON body of `POST path` as its adapter's schema, for each path."""
    build = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for path, adapter in bodies.items():
            body = adapter.json_schema(ref_template=REF_TEMPLATE)
            no_nul(body)
            for name, definition in body.pop("$defs", {}).items():
                if components.setdefault(name, definition) != definition:
                    raise ValueError(f"two OpenAPI schemas are named {name!r}")
            schema["paths"][path]["post"]["requestBody"] = {
                "required": True,
                "description": "JSON, sent as application/json or, by navigator.sendBeacon, "
                "as text/plain; gzip when Content-Encoding says so",
                "content": {"application/json": {"schema": body}},
            }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
