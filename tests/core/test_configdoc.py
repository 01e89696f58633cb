"""docs/configuration.md is generated from the config's pydantic models, and every key a user
may write has a description there."""

from __future__ import annotations

from pydantic import BaseModel, Field

from signalcheck import configdoc
from signalcheck.checks import Seconds
from signalcheck.config import Config, StackPorts
from tests.support import REPO

DOC = REPO / "docs" / "configuration.md"


def test_the_configuration_reference_is_the_generated_one():
    assert DOC.read_text() == configdoc.render(), (
        f"docs/configuration.md is out of date: run `{configdoc.REGENERATE}`"
    )


def test_every_key_reachable_from_the_config_has_a_description():
    missing = configdoc.undocumented()
    assert not missing, "fields without a description (add Field(description=...)):\n" + "\n".join(
        missing
    )


def test_a_key_without_a_description_is_named_with_its_path():
    class Inner(BaseModel):
        wait: Seconds = 1.0
        said: Seconds = Field(1.0, description="seconds to wait")

    class Outer(BaseModel):
        inner: list[Inner] = Field(default_factory=list, description="the inner ones")
        bare: int = 0

    assert configdoc.undocumented(Outer) == ["Outer.bare (bare)", "Inner.wait (inner[].wait)"]


def test_every_model_and_key_has_its_section_and_row():
    text = configdoc.render()
    for section in configdoc.sections():
        model = section.model
        assert f'<a id="{model.__name__.lower()}"></a>' in text, model
        for name, info in model.model_fields.items():
            if not info.exclude:
                assert f"| `{info.alias or name}` |" in text, (model, name)
    paths = {path for section in configdoc.sections() for path in section.paths}
    for path in (
        "regions.<name>",
        "backends.tempo",
        "stack.ports",
        "stack.scrape",
        "stack.port_range",
        "checks[]",
        "checks[].retries",
        "checks[].steps[]",
        "expectations.load[]",
        "expectations.heartbeats[]",
        "load.profiles.<name>.thresholds",
        "traffic",
    ):
        assert path in paths, path
    top = text.split("### Top level (Config)", 1)[1].split("###", 1)[0]
    assert Config.model_fields["source"].exclude and "| `source` |" not in top


def test_types_and_defaults_read_as_a_user_writes_them():
    text = configdoc.render()
    for name, info in StackPorts.model_fields.items():
        assert f"| `{name}` | int (≥ 1, ≤ 65535) | `{info.default}` |" in text, name
    assert "| `timeout` | float (seconds) | `5` |" in text
    assert "| `api_version` | auto \\| v1 \\| v2 | `auto` |" in text
    assert "| `allowlist` | list[str] | `[127.0.0.1, localhost]` |" in text
    assert "| `regions` | dict[str, [Region](#region)] | required |" in text
    assert "| `pace` | float (> 0) \\| null | `1` |" in text


def test_the_generated_text_is_deterministic():
    assert configdoc.render() == configdoc.render()
