"""What the ingest answers a batch it accepted (202)."""

from __future__ import annotations

from collections import Counter

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
