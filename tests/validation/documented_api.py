"""A tiny local HTTP server answering canned bodies, for backends that cannot run here."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT_SPAN = "563d623c76514f8e"
CHILD_SPAN = "7a1b2c3d4e5f6071"

Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]


@dataclass
class Recorded:
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class CannedServer:
    routes: dict[str, Answer | Callable[[dict[str, list[str]]], Answer]]
    """path -> (status, JSON body or str[, headers]), or a function of the query parameters
    giving it"""
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""


@contextmanager
def canned_server(routes: dict) -> Iterator[CannedServer]:
    state = CannedServer(routes)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = parse_qs(parts.query)
            state.requests.append(Recorded(parts.path, params, dict(self.headers.items())))
            route = state.routes.get(parts.path, (404, {"error": "not found"}))
            status, body, *extra = route(params) if callable(route) else route
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(extra[0] if extra else {})}
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def b64_id(hex_id: str) -> str:
    """A hex trace or span id as OTLP/JSON's protobuf-JSON form writes bytes (base64)."""
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def otlp_resource_spans(
    trace_id: str, ids: Callable[[str], str] = b64_id, status: int = 500
) -> list[dict]:
    """Two spans of `trace_id` (POST /auth/token answering `status`, and its db.ping) in
    OTLP/JSON resourceSpans, ids written by `ids` (base64 as Tempo answers, hex as Jaeger's
    api_v3 does)."""
    return [
        {
            "resource": {
                "attributes": [
                    {"key": "service.name", "value": {"stringValue": "demo-api"}},
                    {"key": "cloud.region", "value": {"stringValue": "eu-west-1"}},
                ]
            },
            "scopeSpans": [
                {
                    "scope": {"name": "demo", "version": "0.1.0"},
                    "spans": [
                        {
                            "traceId": ids(trace_id),
                            "spanId": ids(ROOT_SPAN),
                            "parentSpanId": ids("00f067aa0ba902b7"),
                            "name": "POST /auth/token",
                            "kind": "SPAN_KIND_SERVER",
                            "startTimeUnixNano": "1684778327699392724",
                            "endTimeUnixNano": "1684778328256392724",
                            "attributes": [
                                {"key": "http.route", "value": {"stringValue": "/auth/token"}},
                                {
                                    "key": "http.response.status_code",
                                    "value": {"intValue": str(status)},
                                },
                            ],
                            "status": {"code": "STATUS_CODE_ERROR"} if status >= 500 else {},
                        },
                        {
                            "traceId": ids(trace_id),
                            "spanId": ids(CHILD_SPAN),
                            "parentSpanId": ids(ROOT_SPAN),
                            "name": "db.ping",
                            "kind": 3,
                            "startTimeUnixNano": "1684778327700000000",
                            "endTimeUnixNano": "1684778327710000000",
                            "status": {},
                        },
                    ],
                }
            ],
        }
    ]
