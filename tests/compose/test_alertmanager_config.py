"""The shipped Alertmanager config (compose/alertmanager/alertmanager.yml).

`amtool` checks the config and resolves routes; a real Alertmanager process checks the
inhibition; the receivers are read from the file.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from signalcheck.stack.ports import free_port

ALERTMANAGER_YML = (
    Path(__file__).resolve().parents[2] / "compose" / "alertmanager" / "alertmanager.yml"
)
WEBHOOK = "http://capture:4318/alertmanager/webhook"


def load_config() -> dict:
    return yaml.safe_load(ALERTMANAGER_YML.read_text())


def test_amtool_check_config(amtool, run) -> None:
    result = run(amtool, "check-config", ALERTMANAGER_YML)
    assert result.returncode == 0, result
    assert "SUCCESS" in result.stdout, result
    assert " - 3 receivers" in result.stdout, result
    assert " - 2 inhibit rules" in result.stdout, result


ROUTES = [
    (["priority=P0", "alertname=X", "region=eu-west-1"], "pager"),
    (["priority=P1", "alertname=X", "region=eu-west-1"], "chat"),
    (["priority=P3", "alertname=X", "region=eu-west-1"], "default"),
    (["alertname=X", "region=eu-west-1"], "default"),
    (["priority=P0", "alertname=ServiceDown", "region=us-east-1", "severity=critical"], "pager"),
    (["priority=P0", "alertname=HighErrorRate", "region=ap-south-1"], "pager"),
    (
        ["priority=P0", "alertname=ServiceNotReady", "region=eu-west-1", "severity=critical"],
        "pager",
    ),
    (["priority=P1", "alertname=HighLatency", "region=ap-south-1"], "chat"),
    (["priority=P0", "alertname=ErrorBudgetBurnFast", "region=eu-west-1"], "pager"),
    (["priority=P1", "alertname=ErrorBudgetBurnSlow", "region=eu-west-1"], "chat"),
    (["alertname=Watchdog", "severity=none"], "default"),  # the heartbeat: the root route
    # Matching is exact: a lower-case or padded priority is not P0.
    (["priority=p0", "alertname=X"], "default"),
    (["priority=P00", "alertname=X"], "default"),
]


@pytest.mark.parametrize(("labels", "receiver"), ROUTES, ids=[" ".join(r[0]) for r in ROUTES])
def test_route(amtool, run, labels: list[str], receiver: str) -> None:
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_YML}",
        f"--verify.receivers={receiver}",
        *labels,
    )
    assert result.stdout.strip() == receiver, result
    assert result.returncode == 0, result


def test_route_verification_can_fail(amtool, run) -> None:
    """amtool really compares: a wrong expectation exits non-zero."""
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_YML}",
        "--verify.receivers=chat",
        "priority=P0",
    )
    assert result.stdout.splitlines()[0].strip() == "pager", result
    assert result.returncode != 0, result


def test_route_tree_settings() -> None:
    route = load_config()["route"]
    assert route["receiver"] == "default"
    assert route["group_by"] == ["alertname", "region"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "30s",
        "5m",
        "4h",
    )
    children = [(child["receiver"], child["matchers"]) for child in route["routes"]]
    assert children == [("pager", ['priority="P0"']), ("chat", ['priority="P1"'])]


def test_every_receiver_posts_to_the_capture_webhook() -> None:
    receivers = {receiver["name"]: receiver for receiver in load_config()["receivers"]}
    assert set(receivers) == {"pager", "chat", "default"}
    for name, receiver in receivers.items():
        kinds = sorted(key for key in receiver if key.endswith("_configs"))
        assert kinds == ["webhook_configs"], f"{name}: {kinds}"
        assert receiver["webhook_configs"], f"{name}: no webhook"
        for webhook in receiver["webhook_configs"]:
            assert urlsplit(webhook["url"]).path == "/alertmanager/webhook", f"{name}: {webhook}"
            assert webhook["url"] == WEBHOOK, f"{name}: {webhook}"
            assert webhook.get("send_resolved") is True, f"{name}: resolved alerts not sent"


def _matcher(text: str) -> tuple[str, str, str]:
    match = re.fullmatch(r'\s*(\w+)\s*(=~|!~|!=|=)\s*"(.*)"\s*', text)
    assert match, f'matcher {text!r} is not of the form name<op>"value"'
    return match.group(1), match.group(2), match.group(3)


def _matches(matchers: list[str], labels: dict[str, str]) -> bool:
    for name, op, value in map(_matcher, matchers):
        actual = labels.get(name, "")
        hit = re.fullmatch(value, actual) is not None if "~" in op else actual == value
        if hit == op.startswith("!"):
            return False
    return True


INHIBITORS = ("ServiceDown", "ServiceNotReady")
"""The causes that mute their region's symptom alerts, one inhibit rule each."""


@pytest.mark.parametrize("source", INHIBITORS)
def test_a_cause_inhibits_the_other_alerts_of_its_region(source: str) -> None:
    rules = load_config()["inhibit_rules"]
    assert len(rules) == len(INHIBITORS)
    (rule,) = [r for r in rules if _matches(r["source_matchers"], {"alertname": source})]
    assert rule["equal"] == ["region"]
    for target in ("HighErrorRate", "HighLatency", "ErrorBudgetBurnFast", "ErrorBudgetBurnSlow"):
        assert _matches(rule["target_matchers"], {"alertname": target}), target
    for other in (*INHIBITORS, "DependencyDown", "SyntheticProbeFailed", "XHighLatency"):
        assert not _matches(rule["target_matchers"], {"alertname": other}), other


# --- a real Alertmanager ------------------------------------------------------------------


def _request(url: str, body: object | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    return json.loads(text) if text.strip().startswith(("[", "{")) else text


@pytest.fixture
def alertmanager_url(alertmanager_bin, tmp_path: Path):
    """A throwaway Alertmanager on loopback with the shipped config (webhooks never reached)."""
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [
            alertmanager_bin,
            f"--config.file={ALERTMANAGER_YML}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"alertmanager exited with {process.returncode}:\n"
                    f"{(tmp_path / 'alertmanager.log').read_text()}"
                )
            try:
                _request(f"{url}/-/ready")
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"alertmanager at {url} not ready after 20 s")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.parametrize("source", INHIBITORS)
def test_alertmanager_inhibits_only_the_region_of_the_cause(
    alertmanager_url: str, source: str
) -> None:
    def alert(name: str, region: str, priority: str) -> dict:
        return {"labels": {"alertname": name, "region": region, "priority": priority}}

    sent = [
        alert(source, "eu-west-1", "P0"),
        alert("HighErrorRate", "eu-west-1", "P0"),
        alert("HighLatency", "eu-west-1", "P1"),
        alert("ErrorBudgetBurnFast", "eu-west-1", "P0"),
        alert("ErrorBudgetBurnSlow", "eu-west-1", "P1"),
        alert("DependencyDown", "eu-west-1", "P1"),
        alert("HighErrorRate", "us-east-1", "P0"),
        alert("HighLatency", "ap-south-1", "P1"),
    ]
    _request(f"{alertmanager_url}/api/v2/alerts", sent)
    expected = {
        (source, "eu-west-1"): False,
        ("HighErrorRate", "eu-west-1"): True,
        ("HighLatency", "eu-west-1"): True,
        ("ErrorBudgetBurnFast", "eu-west-1"): True,
        ("ErrorBudgetBurnSlow", "eu-west-1"): True,
        ("DependencyDown", "eu-west-1"): False,
        ("HighErrorRate", "us-east-1"): False,
        ("HighLatency", "ap-south-1"): False,
    }
    deadline = time.monotonic() + 15
    while True:
        alerts = _request(f"{alertmanager_url}/api/v2/alerts")
        inhibited = {
            (a["labels"]["alertname"], a["labels"]["region"]): bool(a["status"]["inhibitedBy"])
            for a in alerts
        }
        if inhibited == expected:
            break
        if time.monotonic() > deadline:
            pytest.fail(
                "waited 15 s for Alertmanager's inhibition to settle; "
                f"expected inhibited={expected}, got {inhibited}"
            )
        time.sleep(0.2)
