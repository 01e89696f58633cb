"""What the ingest answers: a batch accepted (202), a request refused, its readiness."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel


class Accepted(BaseModel):
    accepted: int
    """Events stored."""


class Dropped(BaseModel):
    kind: str
    """The payload's item kind: `trace`, `meta_user`."""
    reason: str
    count: int


class FaroAccepted(Accepted):
    dropped: list[Dropped]
    """Items of the payload not stored (also counted in `rum_ingest_dropped_items_total`)."""

    @classmethod
    def of(cls, accepted: int, dropped: Counter[tuple[str, str]]) -> FaroAccepted:
        return cls(
            accepted=accepted,
            dropped=[
                Dropped(kind=kind, reason=reason, count=count)
                for (kind, reason), count in sorted(dropped.items())
            ],
        )


class Rejection(BaseModel):
    """Every 4xx and 503 of the ingest."""

    detail: str
    """Why the request was refused, and what to send instead."""


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    reason: str | None = None
    """Why the store does not answer (only when not ready)."""
