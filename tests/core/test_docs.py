"""The README's configuration reference and the shipped config name every port of the local
stack, the RUM ingest's included."""

from __future__ import annotations

import yaml

from signalcheck.config import StackPorts
from tests.support import REPO


def test_the_config_reference_lists_every_stack_port():
    reference = (REPO / "README.md").read_text().split("## Configuration", 1)[1]
    rows = [line for line in reference.splitlines() if line.startswith("| `stack.ports.")]
    assert len(rows) == 1, rows
    for name, field in StackPorts.model_fields.items():
        assert f"`.{name}`" in rows[0] or f"`stack.ports.{name}`" in rows[0], name
        assert str(field.default) in rows[0], (name, field.default)


def test_the_shipped_config_sets_every_stack_port():
    shipped = yaml.safe_load((REPO / "signalcheck.yaml").read_text())
    assert set(shipped["stack"]["ports"]) == set(StackPorts.model_fields)
