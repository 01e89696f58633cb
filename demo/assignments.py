"""The assignments API: create, read and delete assignments (bearer token required)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, StringConstraints

from signalcheck.demo.auth import TokenIssuer, client_auth
from signalcheck.demo.faults import Faults
from signalcheck.demo.metrics import DemoMetrics
from signalcheck.demo.notify import Notifier
from signalcheck.demo.store import AssignmentStore

logger = logging.getLogger("demo.assignments")

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AssignmentCreate(BaseModel):
    title: Title
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    assignee: Annotated[str, StringConstraints(max_length=200)] | None = None
    priority: Literal["low", "medium", "high", "critical"] = "medium"
    due_date: date | None = None


class Assignment(AssignmentCreate):
    id: str
    status: str
    created_at: datetime


def assignments_router(
    store: AssignmentStore,
    notifier: Notifier,
    metrics: DemoMetrics,
    issuer: TokenIssuer,
    faults: Faults,
) -> APIRouter:
    router = APIRouter(dependencies=[Depends(faults.apply), Depends(client_auth(issuer))])

    @router.post("/v1/assignments", status_code=201)
    async def create_assignment(body: AssignmentCreate) -> Assignment:
        assignment = Assignment(
            **body.model_dump(),
            id=str(uuid.uuid4()),
            status="open",
            created_at=datetime.now(UTC),
        )
        store.insert(assignment.model_dump(mode="json"))
        metrics.count_assignment_created()
        logger.info(
            "assignment created",
            extra={"assignment_id": assignment.id, "priority": assignment.priority},
        )
        notifier.assignment_created(assignment.id, assignment.assignee)
        return assignment

    @router.get("/v1/assignments/{assignment_id}")
    async def get_assignment(assignment_id: str) -> Assignment:
        row = store.get(assignment_id)
        if row is None:
            raise HTTPException(status_code=404, detail="assignment not found")
        return Assignment.model_validate(row)

    @router.delete("/v1/assignments/{assignment_id}", status_code=204)
    async def delete_assignment(assignment_id: str) -> Response:
        if not store.delete(assignment_id):
            raise HTTPException(status_code=404, detail="assignment not found")
        logger.info("assignment deleted", extra={"assignment_id": assignment_id})
        return Response(status_code=204)

    return router
