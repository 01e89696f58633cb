"""The demo's fault-injection admin API (`/admin/faults`), with the bearer token from
`$SIGNALCHECK_DEMO_ADMIN_TOKEN`, or else the local stack's token file."""

from __future__ import annotations

import os
from typing import Any

import httpx

from signalcheck.chaos.targets import Target
from signalcheck.config import Config
from signalcheck.errors import DemoAdminError
from signalcheck.stack import LocalStack

ADMIN_TOKEN_ENV = "SIGNALCHECK_DEMO_ADMIN_TOKEN"
ADMIN_TIMEOUT = 5.0


def change_faults(config: Config, target: Target, method: str, **kwargs: Any) -> dict[str, Any]:
    """Send `method` (PUT with a `json` change, DELETE to reset) to the target's admin faults;
    the faults in force after it."""
    url = f"{target.base_url}/admin/faults"
    headers = {"Authorization": f"Bearer {_admin_token(config)}"}
    try:
        response = httpx.request(method, url, headers=headers, timeout=ADMIN_TIMEOUT, **kwargs)
    except httpx.HTTPError as exc:
        raise DemoAdminError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    if response.is_error:
        raise DemoAdminError(
            f"{method} {url} returned {response.status_code}: {response.text[:200]}"
        )
    return response.json()


def serving(target: Target) -> bool:
    """Whether the target answers `/health`."""
    try:
        return httpx.get(f"{target.base_url}/health", timeout=ADMIN_TIMEOUT).is_success
    except httpx.HTTPError:
        return False


def _admin_token(config: Config) -> str:
    if os.environ.get(ADMIN_TOKEN_ENV):
        return os.environ[ADMIN_TOKEN_ENV].strip()
    path = LocalStack(config).admin_token_path
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise DemoAdminError(
            f"no demo admin token: set {ADMIN_TOKEN_ENV} or start the local stack "
            f"({path}: {exc.strerror})"
        ) from exc
