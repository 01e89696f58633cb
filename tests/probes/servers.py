"""Local targets for the probe tests, all on 127.0.0.1: a fault server, a TLS server with a
self-signed certificate, a port that accepts connections but never answers, the demo."""

from __future__ import annotations

import datetime
import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from signalcheck.demo.app import create_app
from signalcheck.demo.settings import Settings
from signalcheck.waiting import wait_for
from tests.support import free_port

GOOD_PAGE = b"""<!doctype html><html><head><title>ok</title></head>
<body><h1>Assignments</h1><p id="status" class="ready">ready</p></body></html>"""
BROKEN_PAGE = b"""<!doctype html><html><head><title>broken</title></head>
<body><h1>Something went wrong</h1>
<script>console.error("boom: app bundle failed to load"); undefinedFunction();</script>
</body></html>"""

# path -> (status, headers, body)
ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/ok": (200, {"Content-Type": "application/json"}, b'{"status": "ok", "items": [{"id": 7}]}'),
    "/error": (503, {"Content-Type": "application/json"}, b'{"detail": "unavailable"}'),
    "/wrong-body": (200, {"Content-Type": "text/plain"}, b"maintenance mode"),
    "/not-json": (200, {"Content-Type": "application/json"}, b"{status: ok"),
    "/loop": (302, {"Location": "/loop-again"}, b""),
    "/loop-again": (302, {"Location": "/loop"}, b""),
    "/moved": (301, {"Location": "/ok"}, b""),
    "/page": (200, {"Content-Type": "text/html"}, GOOD_PAGE),
    "/broken": (200, {"Content-Type": "text/html"}, BROKEN_PAGE),
}


class _FaultHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict[str, str]]

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers.items()))
        status, headers, body = ROUTES.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def fault_server(tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """Serve ROUTES; yields the base URL and the headers of every request received."""
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_FaultHandler,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, float]:
    """A server TLS context with a fresh self-signed certificate; and its notAfter (unix s)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    not_after = now + datetime.timedelta(days=30)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, not_after.timestamp()


@contextmanager
def silent_port() -> Iterator[int]:
    """A port whose connections complete but never get an answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@contextmanager
def demo_server(
    db_path: Path, *, region: str = "eu-west-1", otlp_endpoint: str | None = None
) -> Iterator[str]:
    """The demo service of `region` served by uvicorn in a thread, its traces and logs sent to
    `otlp_endpoint` (OTLP/HTTP) if given; yields its URL."""
    port = free_port()
    settings = Settings(
        region=region, port=port, admin_token="probe-tests", db_path=str(db_path),
        otlp_endpoint=otlp_endpoint,
    )  # fmt: skip
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=15, what=f"the demo on port {port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
