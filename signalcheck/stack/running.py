"""The local stack for the length of a block: the one already running, else one started for
it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config
from signalcheck.errors import BackendError
from signalcheck.stack.launcher import LocalStack


@contextmanager
def running_stack(config: Config) -> Iterator[None]:
    """The local stack: the running one, else started here and stopped after."""
    backend = config.backends.prometheus
    assert backend is not None, "a loaded Config has the local stack's Prometheus by default"
    with PrometheusClient(backend) as prometheus:
        try:
            prometheus.check_reachable()
            running = True
        except BackendError:
            running = False
    if running:
        yield
        return
    local = LocalStack(config)
    local.up()
    try:
        yield
    finally:
        local.down()
