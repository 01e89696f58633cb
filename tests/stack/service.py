"""A stand-in for the user's own service: `python -m tests.stack.service REGION PORT
METRICS_PORT METRICS_PATH` answers /health on PORT and its metrics, in Prometheus' text
format, on METRICS_PORT at METRICS_PATH (nothing of signalcheck or the demo in it)."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(region: str, port: int, metrics_port: int, metrics_path: str) -> None:
    served = {"health": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            local_port = self.server.server_address[1]
            if local_port == port and self.path == "/health":
                served["health"] += 1
                self._answer("text/plain", f"ok {region}\n")
            elif local_port == metrics_port and self.path == metrics_path:
                self._answer(
                    "text/plain; version=0.0.4",
                    "# TYPE shop_health_checks_total counter\n"
                    f"shop_health_checks_total {served['health']}\n"
                    "# TYPE shop_info gauge\n"
                    f'shop_info{{build="1.2.3",zone="{region}-a"}} 1\n',
                )
            else:
                self.send_error(404)

        def _answer(self, content_type: str, body: str) -> None:
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    servers = [ThreadingHTTPServer(("127.0.0.1", p), Handler) for p in (port, metrics_port)]
    threading.Thread(target=servers[1].serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
