"""The `http` check: one request, its phases, its certificate, its expectations."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from signalcheck.checks import HttpCheck, Request
from signalcheck.probes.assertions import check_response
from signalcheck.probes.client import Response, fetch
from signalcheck.probes.errors import ErrorType, ProbeFailure
from signalcheck.probes.templates import render, render_json
from signalcheck.probes.tracecontext import TraceContext


async def send(
    request: Request,
    base_url: str,
    trace: TraceContext,
    variables: Mapping[str, Any],
    phases: dict[str, float] | None = None,
) -> Response:
    """Send `request` to the region at `base_url` under the request's own timeout; `phases`
    is filled as the phases end (see `fetch`)."""
    headers = {name: render(value, variables) for name, value in request.headers.items()}
    body = None
    if request.json_body is not None:
        body = json.dumps(render_json(request.json_body, variables)).encode()
        headers.setdefault("Content-Type", "application/json")
    elif request.body is not None:
        body = render(request.body, variables).encode()
    headers.update(trace.headers())
    url = base_url.rstrip("/") + render(request.path, variables)
    try:
        async with asyncio.timeout(request.timeout):
            return await fetch(
                request.method,
                url,
                headers=headers,
                body=body,
                verify_tls=request.verify_tls,
                follow_redirects=request.follow_redirects,
                max_redirects=request.max_redirects,
                phases=phases,
            )
    except TimeoutError:
        raise ProbeFailure(
            ErrorType.TIMEOUT,
            f"{request.method} {request.path}: no complete response within {request.timeout:g}s",
        ) from None


async def attempt_http(
    check: HttpCheck, base_url: str, trace: TraceContext, evidence: dict[str, Any]
) -> None:
    """One attempt; fills `evidence` (status, phases, cert expiry) and raises ProbeFailure.
    The phases are in `evidence` from the start: a timeout keeps those measured before it."""
    phases: dict[str, float] = {}
    evidence["phases"] = phases
    response = await send(check, base_url, trace, {}, phases)
    evidence.update(status=response.status, cert_expiry=response.cert_expiry)
    check_response(response, check.expect)
