"""Helpers for the demo tests: a started demo app, its client and its exported telemetry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from signalcheck.demo.settings import Settings

ADMIN_TOKEN = "admin-test-token"
BASE_SETTINGS = Settings(region="eu-west-1", admin_token=ADMIN_TOKEN, service_version="1.2.3")


@dataclass
class Demo:
    """A running demo app, a client for it and the telemetry it exported."""

    app: FastAPI
    client: httpx.AsyncClient
    span_exporter: InMemorySpanExporter
    log_exporter: InMemoryLogRecordExporter

    def spans(self) -> list[ReadableSpan]:
        self.app.state.tracer_provider.force_flush()
        return list(self.span_exporter.get_finished_spans())

    def server_span(self, trace_id: int) -> ReadableSpan:
        (span,) = [
            s for s in self.spans() if s.context.trace_id == trace_id and s.kind is SpanKind.SERVER
        ]
        return span

    def logs(self) -> list[ReadableLogRecord]:
        self.app.state.logger_provider.force_flush()
        return list(self.log_exporter.get_finished_logs())

    async def auth_headers(self) -> dict[str, str]:
        response = await self.client.post(
            "/auth/token", json={"client_id": "tester", "client_secret": "demo-secret"}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def admin(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.request(
            method, "/admin/faults", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def samples(self) -> list[Sample]:
        text = (await self.client.get("/metrics")).text
        return [s for family in text_string_to_metric_families(text) for s in family.samples]

    async def metric(self, name: str, **labels: str) -> float | None:
        """The value of the one sample `name` whose labels include `labels`; None if absent."""
        matches = [
            s.value
            for s in await self.samples()
            if s.name == name and labels.items() <= s.labels.items()
        ]
        assert len(matches) <= 1, f"{name}{labels} matches {len(matches)} samples"
        return matches[0] if matches else None


MakeDemo = Callable[..., Awaitable[Demo]]
"""Starts a demo app from BASE_SETTINGS with the given fields replaced."""
