"""Fixtures for the probe tests: local targets, the demo in a thread, and a real local stack
whose config carries the reference checks of signalcheck.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from signalcheck.config import Config, load_config
from tests.probes.servers import demo_server, fault_server, self_signed_tls, silent_port
from tests.stack.conftest import stack  # noqa: F401  (the package-scoped local stack)
from tests.support import REPO, write_stack_config


def reference_checks() -> list[dict]:
    return yaml.safe_load((REPO / "signalcheck.yaml").read_text())["checks"]


@pytest.fixture(scope="package")
def stack_config(tmp_path_factory) -> Config:
    """A local stack on free ports, probed with the reference checks."""
    path = write_stack_config(tmp_path_factory.mktemp("probe-stack"))
    raw = yaml.safe_load(path.read_text())
    raw["checks"] = reference_checks()
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, environ={})


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[str, list[dict[str, str]]]]:
    with fault_server() as served:
        yield served


@pytest.fixture(scope="module")
def tls_target(tmp_path_factory) -> Iterator[tuple[str, float]]:
    context, not_after = self_signed_tls(tmp_path_factory.mktemp("tls"))
    with fault_server(tls=context) as (url, _):
        yield url, not_after


@pytest.fixture
def silent() -> Iterator[int]:
    with silent_port() as port:
        yield port


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("demo") / "demo.db") as url:
        yield url


def write_config(directory: Path, regions: dict[str, str], checks: list[dict], **extra) -> Path:
    """A signalcheck.yaml with these regions (name -> base URL) and checks."""
    raw = {
        "regions": {name: {"base_url": url} for name, url in regions.items()},
        "checks": checks,
        "runs_dir": str(directory / "runs"),
        **extra,
    }
    path = directory / "signalcheck.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path
