"""Check declarations in the config: the reference checks, retries, clear errors."""

from __future__ import annotations

import pytest
import yaml

from signalcheck.checks import BrowserCheck, HttpCheck, Retry, WorkflowCheck, unset_variables
from signalcheck.config import load_config
from signalcheck.errors import ConfigError
from tests.support import REPO


def test_the_reference_config_declares_the_three_checks() -> None:
    config = load_config(REPO / "signalcheck.yaml", environ={})
    by_name = {check.name: check for check in config.checks}
    assert isinstance(by_name["health"], HttpCheck)
    assert by_name["health"].path == "/health"
    workflow = by_name["assignment-lifecycle"]
    assert isinstance(workflow, WorkflowCheck)
    assert [s.name for s in workflow.steps] == ["token", "create", "read"]
    assert [s.name for s in workflow.cleanup] == ["delete"]
    assert workflow.steps[1].capture == {"assignment_id": "$.id"}
    assert workflow.steps[2].expect.json_values["$.id"] == "${assignment_id}"
    assert isinstance(by_name["home-page"], BrowserCheck)
    assert by_name["home-page"].path == "/"


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        ("fixed", [2, 2, 2, 2]),
        ("linear", [2, 4, 6, 8]),
        ("exponential", [2, 4, 8, 10]),
    ],
)
def test_backoff(backoff, delays) -> None:
    retry = Retry(attempts=5, backoff=backoff, delay=2, max_delay=10)
    assert [retry.delay_after(n) for n in range(1, 5)] == delays


def write(tmp_path, checks) -> str:
    path = tmp_path / "signalcheck.yaml"
    path.write_text(
        yaml.safe_dump({"regions": {"r1": {"base_url": "http://127.0.0.1:1"}}, "checks": checks})
    )
    return str(path)


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ([{"name": "Health Check", "type": "http"}], "checks.0.http.name: Value error, name must"),
        ([{"name": "a", "type": "ftp"}], "checks.0: Input tag 'ftp' found"),
        ([{"name": "a", "type": "http", "path": "health"}], "checks.0.http.path"),
        ([{"name": "a", "type": "http", "method": "FETCH"}], "checks.0.http.method"),
        ([{"name": "a", "type": "http", "body": "x", "json": {}}], "either body or json"),
        ([{"name": "a", "type": "http", "expect": {"status": [700]}}], "expect.status.0"),
        ([{"name": "a", "type": "workflow", "steps": []}], "checks.0.workflow.steps"),
        ([{"name": "a", "type": "http"}, {"name": "a", "type": "http"}], "repeated: a"),
        ([{"name": "a", "type": "http", "retries": {"attempts": 0}}], "retries.attempts"),
        ([{"name": "a", "type": "browser", "colour": "red"}], "colour: unknown key"),
    ],
)
def test_bad_checks_name_the_key(tmp_path, checks, message) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, checks), environ={})
    assert message in str(raised.value)
    assert str(tmp_path) in str(raised.value)


def test_checks_default_to_none(tmp_path) -> None:
    assert load_config(write(tmp_path, []), environ={}).checks == []


def test_unset_variables_are_those_neither_captured_earlier_nor_in_the_environment() -> None:
    http = HttpCheck(type="http", name="h", path="/${HOME_ID}/${ALSO:-x}",
                     headers={"A": "${H_TOKEN}"})  # fmt: skip
    workflow = WorkflowCheck(
        type="workflow", name="w",
        steps=[
            {"name": "first", "path": "/${id}", "capture": {"id": "$.id"}},
            {"name": "second", "path": "/${id}", "json": {"t": "${W_TOKEN}"}},
            {"name": "third", "path": "/x", "expect": {"json": {"$.v": "${later}"}},
             "capture": {"later": "$.v"}},
            {"name": "fourth", "path": "/x", "expect": {"body_contains": "${id}${B_TEXT}"}},
        ],
        cleanup=[{"name": "undo", "path": "/${id}/${later}/${never}"}],
    )  # fmt: skip
    assert unset_variables([http, workflow], {"HOME_ID": "1"}) == [
        "h: ${H_TOKEN}",
        "w, step first: ${id}",
        "w, step second: ${W_TOKEN}",
        "w, step third: ${later}",
        "w, step fourth: ${B_TEXT}",
        "w, cleanup step undo: ${never}",
    ]
    environ = {"HOME_ID": "1", "H_TOKEN": "", "W_TOKEN": "t", "id": "1", "later": "2",
               "never": "3", "B_TEXT": "b"}  # fmt: skip
    assert unset_variables([http, workflow], environ) == []


def test_the_reference_checks_need_no_variable() -> None:
    assert unset_variables(load_config(REPO / "signalcheck.yaml", environ={}).checks, {}) == []
