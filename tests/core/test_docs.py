"""The README's configuration section points to docs/configuration.md, which names every port of
the local stack (the RUM ingest's included) with its default; the shipped config sets them all."""

from __future__ import annotations

import yaml

from signalcheck.config import StackPorts
from tests.support import REPO


def test_the_readme_links_the_configuration_reference_instead_of_a_table():
    section = (REPO / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert "(docs/configuration.md)" in section
    assert "python -m signalcheck.configdoc" in section
    assert "| key |" not in section, "the reference table lives in docs/configuration.md"
    for kept in ("SIGNALCHECK_CONFIG", "exits with code 2", "Secrets"):
        assert kept in section, kept


def test_the_config_reference_lists_every_stack_port():
    reference = (REPO / "docs" / "configuration.md").read_text()
    ports = reference.split("### `stack.ports`", 1)[1].split("\n### ", 1)[0]
    for name, field in StackPorts.model_fields.items():
        assert f"| `{name}` |" in ports and f"`{field.default}`" in ports, name


def test_the_shipped_config_sets_every_stack_port():
    shipped = yaml.safe_load((REPO / "signalcheck.yaml").read_text())
    assert set(shipped["stack"]["ports"]) == set(StackPorts.model_fields)
