"""Fault-injection admin API, guarded by the DEMO_ADMIN_TOKEN bearer token."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Security

from signalcheck.demo.auth import ADMIN_TOKEN, Credentials, bearer_token, unauthorized
from signalcheck.demo.faults import Faults, FaultState, FaultUpdate

logger = logging.getLogger("demo.admin")


def admin_router(admin_token: str | None, faults: Faults) -> APIRouter:
    async def require_admin(
        request: Request, credentials: Annotated[Credentials, Security(ADMIN_TOKEN)]
    ) -> None:
        if admin_token is None:
            raise HTTPException(
                status_code=503, detail="admin API disabled: DEMO_ADMIN_TOKEN is not set"
            )
        token = bearer_token(credentials)
        if token is None or not hmac.compare_digest(token.encode(), admin_token.encode()):
            logger.warning("rejected admin request", extra={"path": request.url.path})
            raise unauthorized("missing or wrong admin token")

    router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])

    @router.get("/faults")
    async def get_faults() -> FaultState:
        return faults.state

    @router.put("/faults")
    async def update_faults(change: FaultUpdate) -> FaultState:
        return faults.update(change)

    @router.delete("/faults")
    async def reset_faults() -> FaultState:
        return faults.reset()

    return router
