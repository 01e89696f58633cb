"""What every backend client shares: timeouts, retries, auth, tenant header, TLS options.

Retries live here and only here: a 429 ("too many outstanding requests", as Tempo's and
Loki's query-frontends answer), a 5xx or a connection error is tried again with exponential
backoff, waiting what a `Retry-After` header asks (delta-seconds or an HTTP date), until the
deadline of the expectation being judged (`within_deadline`) or, outside one,
`DEFAULT_RETRY_WINDOW` seconds from the first attempt.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC
from typing import Any, Self, TypeAlias

import httpx

from signalcheck.config import Backend
from signalcheck.errors import BackendError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_RETRY_WINDOW = 3.0
"""Seconds a call keeps retrying when no expectation's deadline is set."""
MAX_BACKOFF = 5.0
MAX_ATTEMPTS = 50
"""A bound on the attempts of one call, whatever the deadline."""

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
"""Any JSON value, for what an API leaves arbitrary (attributes, a log line's fields)."""
JsonObject: TypeAlias = dict[str, JsonValue]
QueryValue: TypeAlias = str | int | float | bool | list[str] | None
"""One query parameter's value: None leaves it out, a list repeats it (`match[]=a&match[]=b`)."""

_DEADLINE: ContextVar[float | None] = ContextVar("backend_deadline", default=None)


@contextmanager
def within_deadline(deadline: float) -> Iterator[None]:
    """Calls made inside retry until `deadline` (`time.monotonic()`), no longer."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """The seconds a `Retry-After` header asks to wait: delta-seconds or an HTTP date (RFC 9110
    section 10.2.3); None when absent or unreadable. `now` is unix seconds (default: now)."""
    text = (value or "").strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def cause_chain(exc: BaseException) -> str:
    """`exc` and what caused it, in one line: 'ConnectError: [Errno 111] Connection refused'
    (a cause that only repeats the message above it is left out)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = " ".join(str(current).split())
        if text and not any(text in part for part in parts):
            parts.append(f"{type(current).__name__}: {text}" if not parts else text)
        elif not parts:
            parts.append(type(current).__name__)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return " <- ".join(parts)


class BackendClient:
    """A JSON-over-HTTP client for one backend."""

    name = "backend"
    health_path = "/"

    def __init__(self, backend: Backend, *, retries: int | None = None, backoff: float = 0.2):
        self.backend = backend
        self.retries = retries
        """At most this many retries of one call (None: as many as the deadline allows)."""
        self.backoff = backoff
        self.last_request = ""
        """The method and full URL (with query string) of the last request sent."""
        self._http = httpx.Client(
            base_url=backend.base_url,
            timeout=backend.timeout,
            verify=backend.verify_tls,
            headers=_headers(backend),
            auth=_basic_auth(backend),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send a request (its body: `content`), retrying 429, 5xx and connection errors (see
        the module docstring).

        A BackendError when the last attempt still failed: what came back, how many attempts
        were made and why the retries stopped."""
        began = time.monotonic()
        deadline = _DEADLINE.get() or began + DEFAULT_RETRY_WINDOW
        attempt = 0
        while True:
            request = self._http.build_request(
                method, path, params=params, headers=headers, content=content
            )
            self.last_request = f"{method} {request.url}"
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                failure = f"{method} {self.backend.base_url}{path}: {cause_chain(exc)}"
                wait = self._backoff(attempt)
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                failure = (
                    f"{method} {request.url} returned {response.status_code}: {response.text[:300]}"
                )
                asked = retry_after(response.headers.get("Retry-After"))
                wait = self._backoff(attempt) if asked is None else asked
            attempt += 1
            left = deadline - time.monotonic()
            stop = ""
            if self.retries is not None and attempt > self.retries:
                stop = f"retries={self.retries} used"
            elif attempt >= MAX_ATTEMPTS:
                stop = f"{MAX_ATTEMPTS} attempts made"
            elif wait > left:
                stop = (
                    f"waiting {wait:.1f}s more would pass the deadline ({max(left, 0):.1f}s left)"
                )
            if stop:
                took = time.monotonic() - began
                tried = (
                    "" if self.retries == 0 else f" ({attempt} attempt(s) in {took:.1f}s; {stop})"
                )
                raise BackendError(f"{self.name}: {failure}{tried}")
            time.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2.0**attempt, MAX_BACKOFF)

    def check_reachable(self) -> None:
        """One request to `health_path`, no retries: a BackendError naming this backend, its
        URL and what went wrong when it does not answer like the API it should be."""
        try:
            response = self._http.get(self.health_path)
        except httpx.TransportError as exc:
            raise BackendError(
                f"{self.name} at {self.backend.base_url} is unreachable: {cause_chain(exc)}"
            ) from None
        self.decode(response)

    def get_json(self, path: str, **params: QueryValue) -> Any:
        """GET `path` and return its JSON body; a non-2xx answer is a BackendError."""
        sent = {key: value for key, value in params.items() if value is not None}
        return self.decode(self.request("GET", path, params=sent))

    def decode(self, response: httpx.Response) -> Any:
        """The JSON body of a 2xx response, or a BackendError saying what came back.

        Any: the one place a body is untyped. Each client method gives it the type of the
        API's documented answer (the TypedDicts beside it), the seam the checks rely on."""
        request = f"{response.request.method} {response.request.url}"
        if response.is_error:
            raise BackendError(
                f"{self.name}: {request} returned {response.status_code}: {response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise BackendError(
                f"{self.name}: {request}: body is not JSON ({cause_chain(exc)})"
            ) from None


def _headers(backend: Backend) -> dict[str, str]:
    headers: dict[str, str] = {}
    if backend.tenant:
        headers["X-Scope-OrgID"] = backend.tenant
    if backend.bearer_token_env and os.environ.get(backend.bearer_token_env):
        headers["Authorization"] = f"Bearer {os.environ[backend.bearer_token_env]}"
    return headers


def _basic_auth(backend: Backend) -> httpx.BasicAuth | None:
    if backend.username is None:
        return None
    password = os.environ.get(backend.password_env or "", "")
    return httpx.BasicAuth(backend.username, password)
