"""The receiver's Alertmanager webhook: the notifications of the real pipeline's Alertmanager
and of other pipelines' (each under its source)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from signalcheck.capture.alerts import decode_webhook, notifications_from_payload
from signalcheck.capture.otlp import UnsupportedMediaType, decompress, media_format
from signalcheck.capture.request_body import read_body
from signalcheck.capture.store import CaptureStore

SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
"""A notification source: a bounded path segment (a shadow pipeline's name)."""


def webhook_router(store: CaptureStore, max_body_bytes: int) -> APIRouter:
    """POST /alertmanager/webhook and /alertmanager/webhook/{source}."""
    router = APIRouter()

    async def _webhook(request: Request, source: str) -> dict[str, Any]:
        received_at = time.time()
        content_type = request.headers.get("content-type")
        if media_format(content_type) != "json":
            raise UnsupportedMediaType(
                f"unsupported Content-Type {content_type}: expected application/json"
            )
        raw = await read_body(request, max_body_bytes)

        def work() -> int:
            body = decompress(raw, request.headers.get("content-encoding"), max_body_bytes)
            payload = decode_webhook(body)
            rows = notifications_from_payload(payload, received_at, source)
            return store.insert_notifications(rows, group_key=payload.group_key)

        stored = await run_in_threadpool(work)
        return {"stored": stored}

    @router.post("/alertmanager/webhook")
    async def alertmanager_webhook(request: Request) -> dict[str, Any]:
        """The real pipeline's Alertmanager (source '')."""
        return await _webhook(request, "")

    @router.post("/alertmanager/webhook/{source}")
    async def alertmanager_webhook_of(
        request: Request, source: str = Path(pattern=SOURCE_PATTERN)
    ) -> dict[str, Any]:
        """Another pipeline's Alertmanager (e.g. a `signalcheck mutate` shadow), kept apart
        under its `source`."""
        return await _webhook(request, source)

    return router
