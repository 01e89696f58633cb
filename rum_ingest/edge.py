"""The HTTP edge of the ingest: who is sending, how fast, what media type and size, and whether
the body is valid. Each check turns bad input into a 4xx with a reason before anything is stored.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, APIKeyQuery
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request

from signalcheck.rum_ingest.keys import ApiKeys, Role
from signalcheck.rum_ingest.models import MAX_BODY_BYTES
from signalcheck.rum_ingest.ratelimit import RateLimiter

ACCEPTED_MEDIA_TYPES = ("application/json", "text/plain")  # text/plain: navigator.sendBeacon
ACCEPTED_ENCODINGS = ("identity", "gzip")  # gzip: Faro's `requestCompression`
MAX_REASONS = 3
T = TypeVar("T")


class Rejected(Exception):
    """A request refused at the edge: its HTTP status, the reason, and headers to send."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


WRONG_ROLE = {
    Role.INGEST: "a read key cannot send events (it is secret: keep it out of pages); send "
    "with the app's ingest key (RUM_API_KEYS)",
    Role.READ: "an ingest key can only send events (it is public: pages embed it); read "
    "with the app's read key (RUM_READ_KEYS)",
}
"""Why a key of the other role is refused, by the role the endpoint needs."""


KEY_HEADER_NAME = "X-API-Key"
KEY_QUERY_NAME = "api_key"
KEY_DESCRIPTIONS = {
    Role.INGEST: "An app's ingest key (RUM_API_KEYS): sends events, reads nothing",
    Role.READ: "An app's read key (RUM_READ_KEYS): reads analytics and sessions, sends nothing",
}
BEACON = " as a query parameter, for navigator.sendBeacon (it cannot set headers)"


def _schemes(role: Role, scheme: str) -> tuple[APIKeyHeader, APIKeyQuery]:
    """The two security schemes of a role's key: `scheme` (the header), `scheme`Query."""
    header = APIKeyHeader(
        name=KEY_HEADER_NAME,
        scheme_name=scheme,
        description=KEY_DESCRIPTIONS[role],
        auto_error=False,
    )
    query = APIKeyQuery(
        name=KEY_QUERY_NAME,
        scheme_name=f"{scheme}Query",
        description=KEY_DESCRIPTIONS[role] + BEACON,
        auto_error=False,
    )
    return header, query


INGEST_HEADER, INGEST_QUERY = _schemes(Role.INGEST, "IngestKey")
READ_HEADER, READ_QUERY = _schemes(Role.READ, "ReadKey")


async def _ingest_key(
    header: Annotated[str | None, Security(INGEST_HEADER)],
    query: Annotated[str | None, Security(INGEST_QUERY)],
) -> str | None:
    return header or query


async def _read_key(
    header: Annotated[str | None, Security(READ_HEADER)],
    query: Annotated[str | None, Security(READ_QUERY)],
) -> str | None:
    return header or query


IngestKey = Annotated[str | None, Depends(_ingest_key)]
"""The request's ingest key, from `X-API-Key` or `?api_key=`."""
ReadKey = Annotated[str | None, Depends(_read_key)]
"""The request's read key, from `X-API-Key` or `?api_key=`."""


def request_key(request: Request) -> str | None:
    """The API key as `IngestKey` reads it, without FastAPI's dependency resolution (for the
    hot path's direct route)."""
    return request.headers.get(KEY_HEADER_NAME) or request.query_params.get(KEY_QUERY_NAME)


def authenticate(key: str | None, keys: ApiKeys, role: Role) -> str:
    """The app named by the API key; 401 for a missing or unknown key, 403 for a key of the
    other role."""
    if not key:
        raise Rejected(401, "missing API key: send the X-API-Key header or ?api_key=")
    found = keys.lookup(key)
    if found is None:
        raise Rejected(401, "unknown API key")
    app, has = found
    if has is not role:
        raise Rejected(403, WRONG_ROLE[role])
    return app


def check_rate(limiter: RateLimiter, app: str) -> None:
    wait = limiter.acquire(app)
    if wait > 0:
        seconds = max(1, round(wait + 0.5))
        raise Rejected(
            429,
            f"rate limit of {limiter.rate:g} batches/s for this key exceeded; retry in {seconds}s",
            {"Retry-After": str(seconds)},
        )


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body of a JSON or text/plain request, at most `limit` bytes."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ACCEPTED_MEDIA_TYPES:
        found = f"got {media_type!r}" if media_type else "none given"
        raise Rejected(415, f"Content-Type must be application/json or text/plain; {found}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Rejected(413, f"body of {declared} bytes exceeds the limit of {limit}")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ACCEPTED_ENCODINGS:
        raise Rejected(415, f"Content-Encoding must be gzip or identity; got {encoding!r}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(413, f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    return gunzip(body, limit) if encoding == "gzip" else body


def gunzip(body: bytes, limit: int) -> bytes:
    """A gzip body decompressed, at most `limit` bytes of it; 400 if it is not whole gzip."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer
    try:
        data = inflater.decompress(body, limit)
    except zlib.error as exc:
        raise Rejected(400, f"body is not valid gzip: {exc}") from None
    if inflater.unconsumed_tail:
        raise Rejected(413, f"body exceeds the limit of {limit} bytes once decompressed")
    if not inflater.eof:
        raise Rejected(400, "body is not valid gzip: it ends before the gzip stream does")
    return data


def parse(adapter: TypeAdapter[T], body: bytes) -> T:
    """The body validated by `adapter`: 400 if it is not JSON, 422 naming the fields that fail
    or if a string it keeps holds NUL (PostgreSQL cannot store it; ignored fields may)."""
    try:
        value = adapter.validate_json(body)
    except ValidationError as exc:
        raise invalid(exc) from None
    if b"\\u0000" in body and _holds_nul(value):
        raise Rejected(422, "strings must not contain NUL characters (\\u0000)")
    return value


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\0" in value
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(map(_holds_nul, value))
    return False


def invalid(exc: ValidationError) -> Rejected:
    errors = exc.errors(include_url=False, include_input=False)
    if errors and errors[0]["type"] == "json_invalid":
        return Rejected(400, f"body is not valid JSON: {errors[0]['msg']}")
    return Rejected(422, reasons(errors))


def reasons(errors: Sequence[Mapping[str, Any]]) -> str:
    """The first validation errors as one line: `where: what; ...`."""
    found = [
        f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
        for error in errors[:MAX_REASONS]
    ]
    more = f" (and {len(errors) - MAX_REASONS} more)" if len(errors) > MAX_REASONS else ""
    return "; ".join(found) + more
