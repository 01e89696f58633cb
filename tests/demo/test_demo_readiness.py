"""The readiness gauge: `demo_ready` follows the not-ready fault, not the database (that one
is `demo_dependency_up`), so ServiceNotReady and DependencyDown stay two different causes."""

from __future__ import annotations

import pytest
from demo_harness import Demo

pytestmark = pytest.mark.anyio

REGION = "eu-west-1"


async def test_ready_gauge_follows_the_not_ready_fault(demo: Demo) -> None:
    assert await demo.metric("demo_ready", region=REGION) == 1
    await demo.admin("PUT", {"ready": False})
    assert (await demo.client.get("/health/ready")).status_code == 503
    assert await demo.metric("demo_ready", region=REGION) == 0
    await demo.admin("DELETE")
    assert (await demo.client.get("/health/ready")).status_code == 200
    assert await demo.metric("demo_ready", region=REGION) == 1


async def test_a_lost_database_is_not_the_service_out_of_rotation(demo: Demo) -> None:
    await demo.admin("PUT", {"dependency_down": True})
    assert (await demo.client.get("/health/ready")).status_code == 503
    assert await demo.metric("demo_dependency_up", dependency="database", region=REGION) == 0
    assert await demo.metric("demo_ready", region=REGION) == 1
