"""The request bodies the ingest reads itself, in its OpenAPI schema.

`/v1/events` and `/collect` read their bodies themselves (media type, encoding and size are
checked before any parsing), so FastAPI cannot see them; their schemas are added here, with the
models' definitions among the schema's components.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import TypeAdapter

REF_TEMPLATE = "#/components/schemas/{model}"


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
