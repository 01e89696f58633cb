"""`python -m signalcheck.demo` as a process: settings errors, OTLP export flushed on shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from signalcheck.demo.settings import Settings, SettingsError

TRACE_ID = "5b8aa5a2d2c872e8321cf37308d69df2"
REGION_LIST = "us-east-1, eu-west-1, ap-south-1"


def run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "signalcheck.demo"],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REGION": "mars-1"}, f"REGION must be one of {REGION_LIST}; got 'mars-1'"),
        ({}, f"REGION must be one of {REGION_LIST}; it is not set"),
        ({"REGION": "eu-west-1", "PORT": "http"}, "PORT must be an integer from 1 to 65535"),
    ],
)
def test_bad_settings_exit_2_with_one_line(env: dict[str, str], message: str) -> None:
    result = run_demo(env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert message in result.stderr


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "REGION": "ap-south-1",
            "PORT": "9001",
            "DEMO_ADMIN_TOKEN": "t",
            "DEMO_RUM_SDK_URL": "",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        }
    )
    assert settings == Settings(
        region="ap-south-1",
        port=9001,
        admin_token="t",
        otlp_endpoint="http://127.0.0.1:4318",
    )
    with pytest.raises(SettingsError, match="PORT"):
        Settings.from_env({"REGION": "us-east-1", "PORT": "70000"})


class OtlpSink(ThreadingHTTPServer):
    """Accepts OTLP/HTTP protobuf posts and keeps (path, body)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.received.append((handler.path, body))
                handler.send_response(200)
                handler.send_header("Content-Type", "application/x-protobuf")
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def otlp_sink() -> Iterator[OtlpSink]:
    sink = OtlpSink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(base_url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert process.poll() is None, f"demo exited early: {process.communicate()}"
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"demo at {base_url} not healthy within 15 s")


def test_serves_and_flushes_otlp_on_sigterm(otlp_sink: OtlpSink) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "REGION": "us-east-1",
        "PORT": str(port),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_sink.server_port}/",
        "OTEL_BSP_SCHEDULE_DELAY": "60000",
        "OTEL_BLRP_SCHEDULE_DELAY": "60000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "signalcheck.demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_healthy(base_url, process)
        traceparent = f"00-{TRACE_ID}-1111111111111111-01"
        response = httpx.get(
            f"{base_url}/health/ready", headers={"traceparent": traceparent}, timeout=5
        )
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode == -signal.SIGTERM, stderr
    assert '"message": "demo service stopping"' in stdout

    traces = [
        ExportTraceServiceRequest.FromString(b) for p, b in otlp_sink.received if p == "/v1/traces"
    ]
    spans = [
        span
        for request in traces
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
        if span.trace_id.hex() == TRACE_ID
    ]
    assert sorted(s.name for s in spans) == ["GET /health/ready", "db.ping"]

    logs = [
        ExportLogsServiceRequest.FromString(b) for p, b in otlp_sink.received if p == "/v1/logs"
    ]
    bodies = [
        record.body.string_value
        for request in logs
        for resource_logs in request.resource_logs
        for scope_logs in resource_logs.scope_logs
        for record in scope_logs.log_records
        if record.trace_id.hex() == TRACE_ID
    ]
    assert bodies == ["request completed"]
    assert f'"trace_id": "{TRACE_ID}"' in stdout
