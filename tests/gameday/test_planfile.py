"""`signalcheck gameday --plan FILE`: the plan file (experiment paths, load profile, phases) is
read against the config, and every way it can be wrong is one line naming the file, the key
and the expected form (exit 2, nothing started). A game day against remote backends that do
not answer starts no local stack.

No stack runs here: the config's regions and backends point at free ports where nothing
listens.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from signalcheck.actors import gameday_actors
from signalcheck.cli import app
from signalcheck.config import load_config
from signalcheck.errors import ConfigError, GamedayError
from signalcheck.gameday import Gameday
from signalcheck.gameday.planfile import read_plan
from signalcheck.stack import LocalStack
from tests.support import REPO, free_port, write_shipped_config

EXAMPLE = REPO / "chaos" / "experiments" / "examples" / "demo-latency-http.json"
"""A user-written experiment: stock http actions marked for signalcheck."""


@pytest.fixture
def config(tmp_path):
    return load_config(write_shipped_config(tmp_path), environ={})


def write_plan(directory: Path, **plan: object) -> Path:
    path = directory / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def test_a_plan_names_experiment_files_relative_to_itself_the_load_and_the_phases(
    config, tmp_path
) -> None:
    (tmp_path / "mine").mkdir()
    own = tmp_path / "mine" / "latency.json"
    own.write_text(EXAMPLE.read_text())
    path = write_plan(
        tmp_path,
        name="staging-latency",
        phases=["load", "chaos"],
        load={"profile": "ramp", "region": "eu-west-1", "seconds": 20},
        experiments=["mine/latency.json", str(EXAMPLE)],
    )
    plan = read_plan(path, config)
    assert plan.name == "staging-latency" and plan.phases == ("load", "chaos")
    assert (plan.load_profile, plan.load_region, plan.load_seconds) == ("ramp", "eu-west-1", 20)
    assert plan.experiments == [str(own.resolve()), str(EXAMPLE)]


def test_lanes_run_experiments_in_their_own_regions(config, tmp_path) -> None:
    lanes = [{"region": "eu-west-1", "experiments": [str(EXAMPLE)]},
             {"region": "us-east-1", "experiments": [str(EXAMPLE), str(EXAMPLE)]}]  # fmt: skip
    plan = read_plan(write_plan(tmp_path, name="c", phases=["chaos"], lanes=lanes), config)
    assert [(lane.region, len(lane.experiments)) for lane in plan.lanes] == [
        ("eu-west-1", 1), ("us-east-1", 2),
    ]  # fmt: skip
    assert plan.experiments == [str(EXAMPLE)] * 3


def test_a_chaos_only_plan_needs_no_load(config, tmp_path) -> None:
    path = write_plan(tmp_path, name="c", phases=["chaos"], experiments=[str(EXAMPLE)])
    assert read_plan(path, config).phases == ("chaos",)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"name": "x", "experiments": [str(EXAMPLE)], "extra": 1}, "extra: unknown key"),
        ({"experiments": [str(EXAMPLE)], "phases": ["chaos"]}, "name: required key is missing"),
        ({"name": "x", "phases": ["chaos", "baseline"], "experiments": [str(EXAMPLE)]},
         "expected some of ['baseline', 'load', 'chaos'], once each, in that order"),
        ({"name": "x", "phases": ["soak"]}, "phases.0: Input should be 'baseline', 'load' or"),
        ({"name": "x", "phases": ["load"]}, "load: required by the load phase"),
        ({"name": "x", "phases": ["chaos"]}, "experiments: the chaos phase needs at least one"),
        ({"name": "x", "phases": ["load"], "load": {"profile": "ramp", "region": "eu-west-1"}},
         "load.seconds: required key is missing"),
        ({"name": "x", "phases": ["load"],
          "load": {"profile": "marathon", "region": "eu-west-1", "seconds": 5}},
         "load.profile: expected a profile of the config's load.profiles"),
        ({"name": "x", "phases": ["load"],
          "load": {"profile": "ramp", "region": "mars-1", "seconds": 5}},
         "load.region: expected a region of the config (ap-south-1, eu-west-1, us-east-1), got"),
        ({"name": "x", "phases": ["chaos"], "experiments": ["missing.json"]},
         "experiments.0: no such file"),
        ({"name": "x", "phases": ["chaos"], "experiments": ["notes.txt"]},
         "experiments.0: expected a Chaos Toolkit experiment file (.json, .yaml, .yml)"),
        ({"name": "x", "phases": ["chaos"], "experiments": [str(EXAMPLE)],
          "lanes": [{"region": "eu-west-1", "experiments": [str(EXAMPLE)]}]},
         "lanes: give either experiments (one after another) or lanes, not both"),
        ({"name": "x", "phases": ["chaos"],
          "lanes": [{"region": "mars-1", "experiments": [str(EXAMPLE)]}]},
         "lanes.0.region: expected a region of the config"),
        ({"name": "x", "phases": ["chaos"],
          "lanes": [{"region": "eu-west-1", "experiments": [str(EXAMPLE)]},
                    {"region": "eu-west-1", "experiments": [str(EXAMPLE)]}]},
         "lanes.1.region: eu-west-1 has a lane already"),
        ({"name": "x", "phases": ["chaos"],
          "lanes": [{"region": "eu-west-1", "experiments": ["missing.json"]}]},
         "lanes.0.experiments.0: no such file"),
    ],
)  # fmt: skip
def test_a_wrong_plan_names_the_file_the_key_and_the_expected_form(
    config, tmp_path, plan, message
) -> None:
    path = write_plan(tmp_path, **plan)
    with pytest.raises(ConfigError) as raised:
        read_plan(path, config)
    assert str(raised.value).startswith(f"{path}: "), raised.value
    assert message in str(raised.value)


def test_the_cli_refuses_a_wrong_plan_in_one_line_with_exit_2(config, tmp_path) -> None:
    path = write_plan(tmp_path, name="x", phases=["chaos"])
    result = CliRunner().invoke(app, ["gameday", "--plan", str(path), "-c", str(config.source)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"signalcheck: {path}: experiments: the chaos phase needs at least one experiment file"
    ]
    both = CliRunner().invoke(
        app, ["gameday", "--plan", str(path), "--profile", "quick", "-c", str(config.source)]
    )
    assert both.exit_code == 2 and "--plan and --profile: give one of them" in both.output


def test_remote_backends_that_do_not_answer_start_no_local_stack(tmp_path) -> None:
    path = write_shipped_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["backends"] = {"prometheus": {"url": f"http://127.0.0.1:{free_port()}", "timeout": 1}}
    path.write_text(yaml.safe_dump(raw))
    remote = load_config(path, environ={})
    plan = read_plan(
        write_plan(tmp_path, name="c", phases=["chaos"], experiments=[str(EXAMPLE)]), remote
    )
    run = Gameday(remote, plan, gameday_actors(), Console(file=None, quiet=True))
    with pytest.raises(GamedayError, match="a game day against remote backends starts no local"):
        run.run()
    assert LocalStack(remote).running() == []
