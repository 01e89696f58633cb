"""`signalcheck init`: the starter config is the repository's local-stack config, refuses to
overwrite, and `--with-rules` points the stack's rendering and `mutate` at the user's copies."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from signalcheck.cli import app
from signalcheck.config import Config, load_config
from signalcheck.errors import ConfigError
from signalcheck.mutate.derive import derive, load_sources, scrape_job_mutant
from signalcheck.stack.render import (
    ALERTMANAGER_YML,
    configured_rule_files,
    render_alertmanager,
    render_prometheus,
    shipped_rule_files,
)
from tests.support import REPO


def init(*args: str):
    return CliRunner().invoke(app, ["init", *args])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(fragment in lines[0] for fragment in fragments), lines[0]


def _comparable(config: Config) -> dict[str, object]:
    """What a config runs: its paths relative to its own file, the rules expectation's
    globs left out (the repository's name its folders, a user's folder has none)."""
    base = config.source.resolve().parent
    dumped = config.model_dump(exclude={"backends", "source"})
    dumped["stack"]["data_dir"] = config.stack.data_dir.relative_to(base)
    dumped["runs_dir"] = config.runs_dir.relative_to(base)
    for rules in dumped["expectations"]["rules"]:
        rules.update(rule_files=[], dashboards=[])
    return dumped


def test_the_starter_is_the_repositorys_local_stack_config(tmp_path: Path) -> None:
    """The one guard against drift: the shipped template (package data) must run exactly
    what the repository's signalcheck.yaml runs (regions, stack, allowlist, checks,
    expectations, load profiles)."""
    result = init(str(tmp_path / "new"))
    assert result.exit_code == 0, result.output

    starter = load_config(tmp_path / "new" / "signalcheck.yaml", environ={})
    repo = load_config(REPO / "signalcheck.yaml", environ={})
    assert _comparable(starter) == _comparable(repo)
    assert starter.stack.rule_files is None and starter.stack.alertmanager_config is None
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["signalcheck.yaml"]
    text = (tmp_path / "new" / "signalcheck.yaml").read_text()
    assert "YOUR SERVICE" in text and "# eu-west-1: {base_url: " in text


def test_init_refuses_to_overwrite_and_changes_nothing(tmp_path: Path) -> None:
    mine = tmp_path / "signalcheck.yaml"
    mine.write_text("regions: {}\n")

    assert_one_line_error(init(str(tmp_path)), str(mine), "already exists", "--force")
    assert mine.read_text() == "regions: {}\n"

    # --with-rules checks every file before writing any: one existing copy stops them all
    mine.unlink()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "probes.yml").write_text("groups: []\n")
    assert_one_line_error(init(str(tmp_path), "--with-rules"), "probes.yml", "already exists")
    assert not mine.exists() and not (tmp_path / "alertmanager.yml").exists()

    result = init(str(tmp_path), "--with-rules", "--force")
    assert result.exit_code == 0, result.output
    assert load_config(mine, environ={}).stack.rule_files is not None
    assert (tmp_path / "rules" / "probes.yml").read_text() != "groups: []\n"


def test_init_into_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    assert_one_line_error(init(str(tmp_path / "file")), "not a directory")


@pytest.fixture
def with_rules(tmp_path: Path) -> Path:
    """A folder after `signalcheck init --with-rules`: its config file."""
    result = init(str(tmp_path), "--with-rules")
    assert result.exit_code == 0, result.output
    return tmp_path / "signalcheck.yaml"


def test_with_rules_copies_the_shipped_files_and_the_config_points_at_them(
    with_rules: Path, tmp_path: Path
) -> None:
    config = load_config(with_rules, environ={})
    copies = sorted((tmp_path / "rules").glob("*.yml"))
    assert [p.name for p in copies] == [p.name for p in shipped_rule_files()]
    assert [p.read_text() for p in copies] == [p.read_text() for p in shipped_rule_files()]
    assert (tmp_path / "alertmanager.yml").read_text() == ALERTMANAGER_YML.read_text()
    assert config.stack.rule_files == copies
    assert config.stack.alertmanager_config == tmp_path / "alertmanager.yml"

    rendered = yaml.safe_load(render_prometheus(config, tmp_path / "out").read_text())
    assert rendered["rule_files"] == [str(p) for p in copies]


def test_an_edited_rule_copy_shows_in_the_rendering_and_the_mutants(
    with_rules: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "rules" / "service-alerts.yml"
    copy.write_text(copy.read_text().replace("alert: HighLatency\n", "alert: SlowRegion\n"))
    config = load_config(with_rules, environ={})

    rendered = yaml.safe_load(render_prometheus(config, tmp_path / "out").read_text())
    loaded = "".join(Path(path).read_text() for path in rendered["rule_files"])
    assert "alert: SlowRegion" in loaded and "alert: HighLatency\n" not in loaded

    names = {mutant.name for mutant in derive(load_sources(config))}
    assert {"SlowRegion.threshold", "SlowRegion.for", "SlowRegion.metric"} <= names
    assert not any(name.startswith("HighLatency.") for name in names)
    # a scrape-job mutant edits prometheus.yml; its shadow still loads the user's rules
    scrape = scrape_job_mutant(load_sources(config), "demo")
    assert configured_rule_files(config, scrape.prometheus) == config.stack.rule_files


def test_an_edited_alertmanager_copy_shows_in_the_rendering_and_the_mutants(
    with_rules: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "alertmanager.yml"
    copy.write_text(copy.read_text().replace("receiver: chat", "receiver: team-chat"))
    copy.write_text(copy.read_text().replace("name: chat", "name: team-chat"))
    config = load_config(with_rules, environ={})

    rendered = yaml.safe_load(render_alertmanager(config, tmp_path / "out").read_text())
    assert rendered["route"]["routes"][1]["receiver"] == "team-chat"
    assert "team-chat" in {r["name"] for r in rendered["receivers"]}
    assert rendered["route"]["repeat_interval"] == "5000ms"  # still the local stack's timings

    names = {mutant.name for mutant in derive(load_sources(config))}
    assert {"route.2-team-chat.receiver", "route.2-team-chat.matcher"} <= names
    assert not any("-chat." in name and "team-chat" not in name for name in names)


def _config_with_stack(tmp_path: Path, stack: dict[str, object]) -> Path:
    path = tmp_path / "conf" / "signalcheck.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        yaml.safe_dump({"regions": {"r1": {"base_url": "http://127.0.0.1:18001"}}, "stack": stack})
    )
    return path


@pytest.mark.parametrize(
    ("stack", "files", "fragments"),
    [
        ({"rule_files": ["rules/*.yml"]}, {}, ["stack.rule_files", "rules/*.yml matches no file"]),
        ({"rule_files": ["a.yml"]}, {"a.yml": "- not a mapping\n"}, ["a Prometheus rule file"]),
        (
            {"rule_files": ["a/x.yml", "b/x.yml"]},
            {"a/x.yml": "groups: []\n", "b/x.yml": "groups: []\n"},
            ["stack.rule_files", "two rule files named x.yml"],
        ),
        (
            {"alertmanager_config": "am.yml"},
            {},
            ["stack.alertmanager_config", "cannot read", "am.yml"],
        ),
        (
            {"alertmanager_config": "am.yml"},
            {"am.yml": "receivers: []\n"},
            ["stack.alertmanager_config", "an Alertmanager config", "`route` dict"],
        ),
    ],
)
def test_a_missing_or_wrong_file_is_a_config_error_naming_the_key(
    tmp_path: Path, stack: dict[str, object], files: dict[str, str], fragments: list[str]
) -> None:
    path = _config_with_stack(tmp_path, stack)
    for name, text in files.items():
        (path.parent / name).parent.mkdir(parents=True, exist_ok=True)
        (path.parent / name).write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    assert all(fragment in message for fragment in fragments), message


def test_paths_are_relative_to_the_config_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config_with_stack(
        tmp_path, {"rule_files": ["r/*.yml"], "alertmanager_config": "am.yml"}
    )
    (path.parent / "r").mkdir()
    (path.parent / "r" / "one.yml").write_text("groups: []\n")
    (path.parent / "am.yml").write_text(ALERTMANAGER_YML.read_text())
    monkeypatch.chdir(tmp_path)

    config = load_config(Path("conf/signalcheck.yaml"), environ={})
    assert config.stack.rule_files == [path.parent / "r" / "one.yml"]
    assert config.stack.alertmanager_config == path.parent / "am.yml"
