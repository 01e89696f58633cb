"""A route documented like any FastAPI route but called without dependency resolution.

FastAPI resolves a route's dependencies, security schemes and parameters on every request;
for the ingest's hot path that was the largest cost after the store's. A `DirectRoute` keeps
the OpenAPI description FastAPI derives from the endpoint's signature, and calls the endpoint
with the request and its API key alone (FastAPI's documented extension point: a custom
`APIRoute` whose `get_route_handler` returns the handler).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from signalcheck.rum_ingest.edge import request_key

DirectEndpoint = Callable[[Request, str | None], Awaitable[Response]]


class DirectRoute(APIRoute):
    """Calls `endpoint(request, key)`; the endpoint reads and validates its body itself."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        endpoint: DirectEndpoint = self.endpoint

        async def handle(request: Request) -> Response:
            return await endpoint(request, request_key(request))

        return handle
