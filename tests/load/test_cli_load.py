"""`signalcheck load` refuses what it must not run, with one line and exit code 2."""

from __future__ import annotations

import pytest
import yaml

from tests.load.conftest import finish, signalcheck_load
from tests.support import write_stack_config


@pytest.fixture
def config_path(tmp_path):
    path = write_stack_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["backends"] = {"rum_ingest": {"url": "https://rum.example.com"}}
    raw["load"] = {"profiles": {"rum": {"shape": "smoke", "user_mix": {"rum": 1}}}}
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "rum"], "refusing to send load to 'rum.example.com': not in allowlist"),
        (["--profile", "nope"], "--profile: no load profile 'nope'"),
        (["--profile", "smoke", "--region", "mars-1"], "'mars-1' is not a configured region"),
        (["--profile", "smoke", "--duration", "soon"], "--duration: 'soon' is not a positive"),
        (["--ledger", "elsewhere.jsonl"], "--ledger elsewhere.jsonl: expected the ledger.jsonl"),
        (
            ["--ledger", "gone/ledger.jsonl"],
            "--ledger gone/ledger.jsonl: expected the ledger.jsonl",
        ),
    ],
)
def test_refused_runs_exit_2_with_one_line_and_send_nothing(config_path, args, message):
    code, output = finish(signalcheck_load(config_path, *args), timeout=60)
    assert code == 2, output
    [line] = output.strip().splitlines()
    assert line.startswith("signalcheck: ") and message in line, line
    assert not list((config_path.parent / "runs").glob("*"))
