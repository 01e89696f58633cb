"""Config loading: typed models, env overrides, and errors that name file, key and form."""

from pathlib import Path

import pytest

from signalcheck.config import load_config
from signalcheck.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

VALID = """
regions:
  eu-west-1: {base_url: "http://127.0.0.1:18002"}
stack:
  data_dir: state
  ports: {prometheus: 29090}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "signalcheck.yaml"
    path.write_text(text)
    return path


def test_shipped_config_loads_with_three_regions():
    config = load_config(REPO / "signalcheck.yaml", environ={})
    assert sorted(config.regions) == ["ap-south-1", "eu-west-1", "us-east-1"]
    assert config.regions["eu-west-1"].port == 18002


def test_backends_default_to_the_local_stack_ports(tmp_path):
    config = load_config(write(tmp_path, VALID), environ={})
    assert config.backends.prometheus.base_url == "http://127.0.0.1:29090"
    assert config.backends.alertmanager.base_url == "http://127.0.0.1:19093"
    assert config.backends.loki is None


def test_backend_url_overridden_from_environment(tmp_path):
    env = {"SIGNALCHECK_PROMETHEUS_URL": "https://prom.staging.example:9090/"}
    config = load_config(write(tmp_path, VALID), environ=env)
    assert config.backends.prometheus.base_url == "https://prom.staging.example:9090"


def test_config_path_from_environment(tmp_path):
    path = write(tmp_path, VALID)
    config = load_config(environ={"SIGNALCHECK_CONFIG": str(path)})
    assert config.source == path


def test_relative_dirs_are_anchored_at_the_config_file(tmp_path):
    config = load_config(write(tmp_path, VALID), environ={})
    assert config.stack.data_dir == tmp_path / "state"
    assert config.runs_dir == tmp_path / "runs"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("regions: [", "not valid YAML at line 1"),
        ("- a\n- b\n", "expected a mapping at the top level, got list"),
        ("stack: {}\n", "regions: required key is missing"),
        (VALID + "colour: blue\n", "colour: unknown key"),
        (
            'regions:\n  eu-west-1: {base_url: "not a url"}\n',
            "regions.eu-west-1.base_url: Input should be a valid URL",
        ),
        (VALID.replace("29090", "70000"), "stack.ports.prometheus: Input should be less than"),
        (
            'regions:\n  eu-west-1: {base_url: "http://10.0.0.8:80"}\n',
            "host '10.0.0.8' is not in allowlist",
        ),
    ],
)
def test_errors_name_file_key_and_form(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.yaml", environ={})
