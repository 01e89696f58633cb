"""A stand-in service that counts its requests as a given instrumentation library does.

`python -m tests.load.counting_service SPEC_JSON` serves, on each spec's port, any path: it
answers with the status of `?status=` (default 200) and counts the request in its own request
metric (a counter or a histogram, named and labelled as that library names them), unless
`?uncounted=1`; the route label is the path, a numeric last segment written as the spec's
`id_segment` (the library's route template syntax); `/metrics` is the exposition. One
process serves every spec; the test stops it by its PID.
"""

from __future__ import annotations

import json
import sys
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Exposed:
    """One service's request metric: `kind` counter or histogram, its name as the library
    declares it, its route and status labels, and whether the status is a code or a class."""

    def __init__(self, spec: dict) -> None:
        self.registry = CollectorRegistry()
        self.route, self.status = spec["route_label"], spec["status_label"]
        self.classes = spec["status_classes"]
        self.id_segment = spec["id_segment"]
        labels = ("method", self.route, self.status)
        kind = Counter if spec["kind"] == "counter" else Histogram
        self.metric = kind(spec["name"], "requests served", labels, registry=self.registry)

    def route_of(self, path: str) -> str:
        head, _, last = path.rpartition("/")
        return f"{head}/{self.id_segment}" if last.isdigit() else path

    def count(self, method: str, path: str, status: int) -> None:
        route = self.route_of(path)
        value = f"{str(status)[0]}xx" if self.classes else str(status)
        child = self.metric.labels(method=method, **{self.route: route, self.status: value})
        if isinstance(self.metric, Counter):
            child.inc()
        else:
            child.observe(0.001)


class Handler(BaseHTTPRequestHandler):
    def __init__(self, exposed: Exposed, *args, **kwargs) -> None:
        self.exposed = exposed
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/metrics":
            self._answer(200, generate_latest(self.exposed.registry), CONTENT_TYPE_LATEST)
            return
        query = parse_qs(url.query)
        status = int(query.get("status", ["200"])[0])
        if query.get("uncounted") != ["1"]:
            self.exposed.count("GET", url.path, status)
        self._answer(status, b"ok\n", "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads Prometheus, not this log."""


def main(specs: list[dict]) -> None:
    servers = [
        ThreadingHTTPServer(("127.0.0.1", spec["port"]), partial(Handler, Exposed(spec)))
        for spec in specs
    ]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
