"""Fixtures for the demo service: apps with in-memory span and log exporters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import httpx
import pytest
from demo_harness import BASE_SETTINGS, Demo, MakeDemo
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from signalcheck.demo.app import create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def make_demo() -> AsyncIterator[MakeDemo]:
    """Start demo apps from BASE_SETTINGS with the given fields replaced; stop them after."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Demo:
            span_exporter = InMemorySpanExporter()
            log_exporter = InMemoryLogRecordExporter()
            app = create_app(
                replace(BASE_SETTINGS, **overrides),
                span_exporter=span_exporter,
                log_exporter=log_exporter,
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://demo")
            )
            return Demo(app, client, span_exporter, log_exporter)

        yield make


@pytest.fixture
async def demo(make_demo: MakeDemo) -> Demo:
    return await make_demo()
