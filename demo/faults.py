"""Injected faults: the state the admin API sets and the request path obeys."""

from __future__ import annotations

import asyncio
import logging
import random

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger("demo.faults")


class FaultState(BaseModel):
    """The whole fault state; the default is a healthy service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: int = Field(0, ge=0, le=60000)
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    ready: bool = True
    dependency_down: bool = False


class FaultUpdate(BaseModel):
    """Any subset of the fault fields; the others keep their value."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = Field(None, ge=0, le=60000)
    error_rate: float | None = Field(None, ge=0.0, le=1.0)
    ready: bool | None = None
    dependency_down: bool | None = None


class Faults:
    """Holds the current fault state of one process."""

    def __init__(self) -> None:
        self.state = FaultState()

    def update(self, change: FaultUpdate) -> FaultState:
        self.state = self.state.model_copy(update=change.model_dump(exclude_none=True))
        logger.warning("fault injection changed", extra=self.state.model_dump())
        return self.state

    def reset(self) -> FaultState:
        self.state = FaultState()
        logger.warning("fault injection reset", extra=self.state.model_dump())
        return self.state

    async def apply(self) -> None:
        """Delay and maybe fail the current request, as the state says.

        Used as a route dependency of the API routes that faults apply to.
        """
        if self.state.latency_ms:
            await asyncio.sleep(self.state.latency_ms / 1000)
        if random.random() < self.state.error_rate:
            logger.error("injected fault", extra={"error_rate": self.state.error_rate})
            raise HTTPException(status_code=500, detail="injected fault")
