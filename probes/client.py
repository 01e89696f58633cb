"""A small HTTP/1.1 client that opens a fresh connection for every request and times each
phase as blackbox_exporter names them: resolve, connect, tls, processing, transfer.

Phases add up over redirects, as blackbox_exporter's do. Any failure is a ProbeFailure
with its error type; the caller puts the whole fetch under a deadline.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import h11
from cryptography import x509

from signalcheck.probes.errors import ErrorType, ProbeFailure

PHASES = ("resolve", "connect", "tls", "processing", "transfer")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "signalcheck-probe/0.1"
READ_CHUNK = 65536
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    phases: dict[str, float]
    cert_expiry: float | None

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ProbeFailure(
                ErrorType.INVALID_JSON,
                f"body of {self.url} is not JSON ({exc}): {self.text()[:80]!r}",
            ) from None


async def fetch(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    verify_tls: bool = True,
    follow_redirects: bool = True,
    max_redirects: int = 10,
    phases: dict[str, float] | None = None,
) -> Response:
    """Send one request (and its redirects), each over a new connection.

    `phases`, when given, is filled in place as each phase ends, so a caller whose deadline
    cuts the fetch short still holds the phases measured before it (as blackbox_exporter
    reports resolve and connect of a request that timed out)."""
    phases = {} if phases is None else phases
    phases.update(dict.fromkeys(PHASES, 0.0))
    headers = dict(headers or {})
    visited = {(method, url)}
    cert_expiry: float | None = None
    redirects = 0
    while True:
        status, response_headers, data, expiry = await _exchange(
            method, url, headers, body, verify_tls, phases
        )
        if expiry is not None:
            cert_expiry = expiry if cert_expiry is None else min(cert_expiry, expiry)
        location = response_headers.get("location")
        if not (follow_redirects and status in REDIRECT_STATUSES and location):
            return Response(url, status, response_headers, data, phases, cert_expiry)
        target = urljoin(url, location)
        if status == 303 or (status in (301, 302) and method == "POST"):
            method, body = "GET", None
        if redirects >= max_redirects or (method, target) in visited:
            raise ProbeFailure(
                ErrorType.REDIRECT_LOOP,
                f"redirect loop: {redirects + 1} redirects, {url} -> {target}",
            )
        if _origin(target) != _origin(url):
            headers.pop("Authorization", None)
        visited.add((method, target))
        redirects += 1
        url = target


async def _exchange(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    verify_tls: bool,
    phases: dict[str, float],
) -> tuple[int, dict[str, str], bytes, float | None]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeFailure(ErrorType.OTHER, f"not an http(s) URL: {url}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    began = time.perf_counter()
    address = await _resolve(host, port)
    began = _lap(phases, "resolve", began)
    try:
        reader, writer = await asyncio.open_connection(address, port)
    except OSError as exc:
        raise ProbeFailure(
            ErrorType.CONNECT_ERROR, f"connect to {host}:{port}: {exc.strerror or exc}"
        ) from None
    try:
        began = _lap(phases, "connect", began)
        cert_expiry = None
        if parts.scheme == "https":
            try:
                await writer.start_tls(_ssl_context(verify_tls), server_hostname=host)
            except (ssl.SSLError, OSError) as exc:
                raise ProbeFailure(
                    ErrorType.TLS_ERROR, f"TLS handshake with {host}:{port}: {exc}"
                ) from None
            cert_expiry = _cert_expiry(writer)
            began = _lap(phases, "tls", began)
        connection = h11.Connection(h11.CLIENT)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        writer.write(_request_bytes(connection, method, target, parts, headers, body))
        await writer.drain()
        first = await reader.read(READ_CHUNK)
        began = _lap(phases, "processing", began)
        status, response_headers, data = await _read_response(connection, reader, first, url)
        _lap(phases, "transfer", began)
        return status, response_headers, data, cert_expiry
    except OSError as exc:
        raise ProbeFailure(
            ErrorType.CONNECT_ERROR, f"{host}:{port}: connection failed mid-request: {exc}"
        ) from None
    finally:
        writer.close()


async def _resolve(host: str, port: int) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ProbeFailure(ErrorType.DNS_ERROR, f"cannot resolve {host}: {exc.strerror}") from None
    return infos[0][4][0]


def _request_bytes(
    connection: h11.Connection,
    method: str,
    target: str,
    parts: SplitResult,
    headers: dict[str, str],
    body: bytes | None,
) -> bytes:
    fields = {
        "Host": parts.netloc.rpartition("@")[2],
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        **headers,
        "Connection": "close",
    }
    if body is not None:
        fields["Content-Length"] = str(len(body))
    out = connection.send(h11.Request(method=method, target=target, headers=list(fields.items())))
    if body:
        out += connection.send(h11.Data(data=body))
    return out + connection.send(h11.EndOfMessage())


async def _read_response(
    connection: h11.Connection, reader: asyncio.StreamReader, first: bytes, url: str
) -> tuple[int, dict[str, str], bytes]:
    connection.receive_data(first)
    status: int | None = None
    headers: dict[str, str] = {}
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await reader.read(READ_CHUNK))
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode().lower(): v.decode("latin-1") for k, v in event.headers}
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY_BYTES:
                    raise ProbeFailure(
                        ErrorType.PROTOCOL_ERROR, f"{url}: body larger than {MAX_BODY_BYTES} bytes"
                    )
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
    except h11.RemoteProtocolError as exc:
        raise ProbeFailure(ErrorType.PROTOCOL_ERROR, f"{url}: bad HTTP response: {exc}") from None
    if status is None:
        raise ProbeFailure(ErrorType.PROTOCOL_ERROR, f"{url}: connection closed without a response")
    return status, headers, b"".join(chunks)


def _lap(phases: dict[str, float], phase: str, began: float) -> float:
    now = time.perf_counter()
    phases[phase] += now - began
    return now


@functools.cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


def _cert_expiry(writer: asyncio.StreamWriter) -> float | None:
    """notAfter of the server's certificate, unix seconds."""
    ssl_object = writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp() if der else None


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port
