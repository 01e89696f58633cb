"""A tiny local HTTP server answering canned bodies, for backends that cannot run here."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
