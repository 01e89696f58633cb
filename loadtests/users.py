"""Locust users: the demo API's assignment workflow, a read-heavy browse mix, health checks,
and RUM browsers posting event batches to the ingest.

Every request is named by its route template, so Locust's statistics (and the ledger) have
one row per route, not one per assignment id. `context()["target"]` tells the counting hook
which service a request went to.
"""

from __future__ import annotations

import os
import random

from locust import between, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

from signalcheck.loadtests.counting import RUM, SERVICE
from signalcheck.loadtests.plan import plan_of
from signalcheck.loadtests.rum_events import RumSession

ASSIGNMENT = "/v1/assignments/{assignment_id}"
PRIORITIES = ("low", "medium", "high", "critical")
BROWSE_POOL = 20


class PlannedUser(FastHttpUser):
    """Paced by the plan: `pace` tasks per second, or 1-3 s of think time without one."""

    abstract = True
    target = SERVICE
    connection_timeout = 5.0
    network_timeout = 10.0

    def on_start(self) -> None:
        self.plan = plan_of(self.environment)
        self._wait = constant_throughput(self.plan.pace) if self.plan.pace else between(1, 3)

    def wait_time(self) -> float:
        return self._wait(self)

    def context(self) -> dict[str, str]:
        return {"target": self.target}


class DemoApiUser(PlannedUser):
    """A client of the assignments API with the client-credentials token flow."""

    abstract = True

    def token(self) -> str | None:
        secret = os.environ.get(self.plan.client_secret_env, "demo-secret")
        body = {"client_id": self.plan.client_id, "client_secret": secret}
        response = self.client.post("/auth/token", json=body, name="/auth/token")
        return response.json()["access_token"] if response.status_code == 200 else None

    def create(self, token: str) -> str | None:
        body = {
            "title": f"load test {random.getrandbits(32):08x}",
            "assignee": "load@example.com",
            "priority": random.choice(PRIORITIES),
        }
        response = self.client.post(
            "/v1/assignments", json=body, headers=_bearer(token), name="/v1/assignments"
        )
        return response.json()["id"] if response.status_code == 201 else None

    def read(self, token: str, assignment_id: str) -> int:
        path = f"/v1/assignments/{assignment_id}"
        return self.client.get(path, headers=_bearer(token), name=ASSIGNMENT).status_code

    def delete(self, token: str, assignment_id: str) -> None:
        self.client.delete(
            f"/v1/assignments/{assignment_id}", headers=_bearer(token), name=ASSIGNMENT
        )


class AssignmentWorkflowUser(DemoApiUser):
    """The whole workflow each task: token, create, read, delete."""

    @task
    def workflow(self) -> None:
        token = self.token()
        if token is None:
            return
        assignment_id = self.create(token)
        if assignment_id is None:
            return
        self.read(token, assignment_id)
        self.delete(token, assignment_id)


class BrowseUser(DemoApiUser):
    """Mostly reads: keeps its token and a pool of assignments it created, reads them often."""

    def on_start(self) -> None:
        super().on_start()
        self.bearer: str | None = None
        self.pool: list[str] = []

    def ensure_token(self) -> str | None:
        if self.bearer is None:
            self.bearer = self.token()
        return self.bearer

    @task(8)
    def read_one(self) -> None:
        token = self.ensure_token()
        if token is None:
            return
        if not self.pool:
            self.add_one()
            return
        if self.read(token, random.choice(self.pool)) == 401:
            self.bearer = None  # expired: the next task fetches a new one

    @task(1)
    def add_one(self) -> None:
        token = self.ensure_token()
        if token is None:
            return
        assignment_id = self.create(token)
        if assignment_id is not None:
            self.pool = [*self.pool, assignment_id][-BROWSE_POOL:]

    @task(1)
    def home_page(self) -> None:
        self.client.get("/", name="/")


class HealthCheckUser(PlannedUser):
    """What a load balancer does: liveness and readiness, over and over."""

    @task(3)
    def live(self) -> None:
        self.client.get("/health", name="/health")

    @task(1)
    def ready(self) -> None:
        self.client.get("/health/ready", name="/health/ready")


class RumUser(PlannedUser):
    """A browser on the demo's page, posting one batch of RUM events per page view."""

    target = RUM

    def on_start(self) -> None:
        super().on_start()
        self.session = RumSession(self.plan.host, self.plan.region)
        self.headers = {"X-API-Key": os.environ.get(self.plan.rum_api_key_env, "")}

    @task
    def page_view(self) -> None:
        self.client.post(
            f"{self.plan.rum_url}/v1/events",
            json=self.session.batch(),
            headers=self.headers,
            name="/v1/events",
        )


USER_CLASSES = {
    "workflow": AssignmentWorkflowUser,
    "browse": BrowseUser,
    "health": HealthCheckUser,
    "rum": RumUser,
}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
