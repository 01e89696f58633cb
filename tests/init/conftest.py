"""The init package's stack: the config `signalcheck init --with-rules` wrote, on free ports,
with an alert renamed and a receiver renamed in the user's copies."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from signalcheck.cli import app
from signalcheck.config import Config, load_config
from tests.stack.conftest import stack  # noqa: F401 - the package's stack, on stack_config
from tests.support import on_free_ports


@pytest.fixture(scope="package")
def stack_config(tmp_path_factory) -> Config:
    folder = tmp_path_factory.mktemp("init")
    result = CliRunner().invoke(app, ["init", str(folder), "--with-rules"])
    assert result.exit_code == 0, result.output
    rules = folder / "rules" / "service-alerts.yml"
    rules.write_text(rules.read_text().replace("alert: HighLatency\n", "alert: SlowRegion\n"))
    routes = folder / "alertmanager.yml"
    routes.write_text(routes.read_text().replace(": chat\n", ": team-chat\n"))

    path = folder / "signalcheck.yaml"
    on_free_ports(path, tmp_path_factory.mktemp("ports"))
    return load_config(path, environ={})
