"""Reading a request's raw body under a size limit, for the receiver's write endpoints."""

from __future__ import annotations

from fastapi import Request

from signalcheck.capture.otlp import CaptureInputError, PayloadTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The raw request body, refusing (413) anything longer than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise CaptureInputError(f"invalid Content-Length {declared!r}") from None
        if size > limit:
            raise PayloadTooLarge(f"body of {size} bytes is larger than the {limit} byte limit")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"body is larger than the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)
