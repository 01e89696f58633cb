"""The ingest's settings: read keys beside ingest keys, one role per key, and every variable
the settings read documented in rum_ingest/README.md."""

from __future__ import annotations

import re

import pytest

from signalcheck.errors import ConfigError
from signalcheck.rum_ingest.keys import Role
from signalcheck.rum_ingest.settings import Settings
from tests.support import REPO

INGEST = "ingest-key-0123456789abcdef"
READ = "read-key-0123456789abcdef"


def test_read_keys_come_from_the_environment_and_a_file(tmp_path):
    read_file = tmp_path / "read-keys"
    read_file.write_text("# analytics\nother=other-read-key-0123456789\n")
    env = {"RUM_API_KEYS": f"web={INGEST}", "RUM_READ_KEYS": f"web={READ}",
           "RUM_READ_KEYS_FILE": str(read_file)}  # fmt: skip
    keys = Settings.from_env(env).api_keys
    assert keys.lookup(INGEST) == ("web", Role.INGEST)
    assert keys.lookup(READ) == ("web", Role.READ)
    assert keys.lookup("other-read-key-0123456789") == ("other", Role.READ)
    assert keys.lookup("unknown-key-0123456789abc") is None


def test_a_key_cannot_be_both_an_ingest_and_a_read_key():
    env = {"RUM_API_KEYS": f"web={INGEST}", "RUM_READ_KEYS": f"web={INGEST}"}
    with pytest.raises(ConfigError, match="both an ingest and a read key"):
        Settings.from_env(env)


def test_read_keys_alone_are_not_enough():
    with pytest.raises(ConfigError, match="no API keys: set RUM_API_KEYS"):
        Settings.from_env({"RUM_READ_KEYS": f"web={READ}"})


class _Recording(dict):
    """An environment that records every variable asked for."""

    def __init__(self, values: dict[str, str]):
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)


def test_every_setting_is_documented_in_the_readme():
    env = _Recording({"RUM_API_KEYS": f"web={INGEST}"})
    Settings.from_env(env)
    documented = set(
        re.findall(r"^\| `([A-Z_]+)` \|", (REPO / "rum_ingest/README.md").read_text(), re.M)
    )
    assert env.asked >= {"RUM_ALLOWED_ORIGINS", "RUM_RATE_LIMIT", "RUM_READ_KEYS_FILE"}
    assert env.asked <= documented, sorted(env.asked - documented)


def test_workers_and_the_pending_rows_bound_come_from_the_environment():
    env = {"RUM_API_KEYS": f"web={INGEST}", "RUM_WORKERS": "2", "RUM_MAX_PENDING_ROWS": "500"}
    settings = Settings.from_env(env)
    assert (settings.workers, settings.max_pending_rows) == (2, 500)
    defaults = Settings.from_env({"RUM_API_KEYS": f"web={INGEST}"})
    assert (defaults.workers, defaults.max_pending_rows) == (1, 20_000)


@pytest.mark.parametrize(
    ("variable", "value"), [("RUM_WORKERS", "0"), ("RUM_MAX_PENDING_ROWS", "many")]
)
def test_a_bad_worker_count_or_bound_names_its_variable(variable, value):
    with pytest.raises(ConfigError, match=f"{variable} must be a int >= 1, got '{value}'"):
        Settings.from_env({"RUM_API_KEYS": f"web={INGEST}", variable: value})
