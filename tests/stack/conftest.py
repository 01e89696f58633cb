"""A real local stack (Prometheus, Alertmanager, Pushgateway, capture, demo regions)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from signalcheck.config import Config, load_config
from signalcheck.probes.traffic import BackgroundTraffic
from signalcheck.stack import LocalStack
from tests.support import write_stack_config


@pytest.fixture(scope="package")
def stack_config(tmp_path_factory) -> Config:
    return load_config(write_stack_config(tmp_path_factory.mktemp("stack")), environ={})


@pytest.fixture(scope="package")
def stack(stack_config) -> Iterator[LocalStack]:
    local = LocalStack(stack_config)
    local.up()
    try:
        yield local
    finally:
        local.down()


@pytest.fixture
def admin(stack, stack_config):
    """Call the demo admin API of a region: admin("eu-west-1", "PUT", json={...})."""
    token = stack.admin_token_path.read_text().strip()

    def call(region: str, method: str, **kwargs) -> httpx.Response:
        url = f"{str(stack_config.regions[region].base_url).rstrip('/')}/admin/faults"
        response = httpx.request(
            method, url, headers={"Authorization": f"Bearer {token}"}, timeout=5, **kwargs
        )
        response.raise_for_status()
        return response

    yield call
    for region in stack_config.regions:
        call(region, "DELETE")


@pytest.fixture
def traffic(stack, stack_config) -> Iterator[BackgroundTraffic]:
    """Steady API traffic to every region while the test runs."""
    with BackgroundTraffic(stack_config) as running:
        yield running
