"""What every backend client shares: timeouts, retries, auth, tenant header, TLS options."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx

from signalcheck.config import Backend

RETRY_STATUSES = frozenset({500, 502, 503, 504})


class BackendError(Exception):
    """A backend call that failed; the message names the backend, the URL and what came back,
    in one line (the causes folded in, never chained)."""


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

    def __init__(self, backend: Backend, *, retries: int = 2, backoff: float = 0.2):
        self.backend = backend
        self.retries = retries
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

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying 5xx and connection errors with exponential backoff."""
        attempt = 0
        while True:
            request = self._http.build_request(method, path, **kwargs)
            self.last_request = f"{method} {request.url}"
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise BackendError(
                        f"{self.name}: {method} {self.backend.base_url}{path}: {cause_chain(exc)}"
                    ) from None
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= self.retries:
                    return response
            time.sleep(self.backoff * 2**attempt)
            attempt += 1

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

    def get_json(self, path: str, **params: Any) -> Any:
        """GET `path` and return its JSON body; a non-2xx answer is a BackendError."""
        params = {key: value for key, value in params.items() if value is not None}
        return self.decode(self.request("GET", path, params=params))

    def decode(self, response: httpx.Response) -> Any:
        """The JSON body of a 2xx response, or a BackendError saying what came back."""
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
    headers = {}
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
