"""Client-credentials tokens: stateless, HMAC-signed, valid in the process that issued them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from signalcheck.demo.faults import Faults

TOKEN_LIFETIME_S = 3600

logger = logging.getLogger("demo.auth")


class TokenIssuer:
    """Issues and checks bearer tokens for clients that know the client secret."""

    def __init__(self, client_secret: str) -> None:
        self._client_secret = client_secret
        self._key = secrets.token_bytes(32)

    def secret_matches(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self._client_secret.encode())

    def issue(self, client_id: str, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + TOKEN_LIFETIME_S)
        payload = base64.urlsafe_b64encode(f"{expires}:{client_id}".encode()).decode()
        return f"{payload}.{self._sign(payload)}"

    def client_of(self, token: str, now: float | None = None) -> str | None:
        """The client id a valid, unexpired token was issued to; None for any other token."""
        payload, _, signature = token.partition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        expires, _, client_id = base64.urlsafe_b64decode(payload).decode().partition(":")
        if int(expires) < (now if now is not None else time.time()):
            return None
        return client_id

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


CLIENT_TOKEN = HTTPBearer(
    scheme_name="ClientToken",
    description="A token from `POST /auth/token`",
    auto_error=False,
)
ADMIN_TOKEN = HTTPBearer(
    scheme_name="AdminToken",
    description="The admin token (`DEMO_ADMIN_TOKEN`) of the fault-injection API",
    auto_error=False,
)
Credentials = HTTPAuthorizationCredentials | None


def bearer_token(credentials: Credentials) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    if credentials is None:
        return None
    return credentials.credentials.strip() or None


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


class TokenRequest(BaseModel):
    client_id: str = Field(min_length=1, max_length=128)
    client_secret: str = Field(max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = TOKEN_LIFETIME_S


def client_auth(issuer: TokenIssuer) -> Callable[[Credentials], Awaitable[str]]:
    """A route dependency that requires a valid bearer token and returns its client id."""

    async def require_client(credentials: Annotated[Credentials, Security(CLIENT_TOKEN)]) -> str:
        token = bearer_token(credentials)
        if token is None:
            raise unauthorized("missing bearer token")
        client_id = issuer.client_of(token)
        if client_id is None:
            raise unauthorized("invalid or expired token")
        return client_id

    return require_client


def token_router(issuer: TokenIssuer, faults: Faults) -> APIRouter:
    router = APIRouter(dependencies=[Depends(faults.apply)])

    @router.post("/auth/token")
    async def issue_token(body: TokenRequest) -> TokenResponse:
        if not issuer.secret_matches(body.client_secret):
            logger.warning("rejected client credentials", extra={"client_id": body.client_id})
            raise unauthorized("invalid client credentials")
        logger.info("token issued", extra={"client_id": body.client_id})
        return TokenResponse(access_token=issuer.issue(body.client_id))

    return router
