"""Targets outside the allowlist, and the demo's own actions on a region that is not the demo,
are refused before anything is done; --dry does nothing.

No stack runs here: the config's regions point at free ports where nothing listens (or, for
the region that is the user's own service, at a socket that must never see a connection), and
the outside target is a TEST-NET address that nothing may ever be sent to.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import Iterator

import pytest
import yaml
from typer.testing import CliRunner

from signalcheck.chaos import actions
from signalcheck.chaos.actions import inject_errors, kill_region
from signalcheck.chaos.targets import PROBE_ACTIONS, resolve
from signalcheck.cli import app
from signalcheck.config import Config, load_config
from signalcheck.errors import TargetRefused
from tests.chaos.conftest import EXPERIMENTS, REGION, journal, ledger, run_chaos, tail
from tests.support import write_stack_config

OUTSIDE = "http://203.0.113.7:8000"
NOT_THE_DEMO = (
    f"{REGION} is your service, not signalcheck's demo: {{action}} acts on the demo only; "
    "mark your own action as a fault (chaos/README.md#marked-actions)"
)
DEMO_ACTIONS = {
    "inject_latency": {"latency_ms": 800},
    "inject_errors": {"error_rate": 1.0},
    "inject_not_ready": {},
    "inject_dependency_outage": {},
    "clear_fault": {"action": "errors"},
    "clear_faults": {},
    "kill_region": {},
    "start_region": {},
}
"""Every demo action of signalcheck.chaos.actions, with its arguments but the region."""


@pytest.fixture
def config(tmp_path):
    return load_config(write_stack_config(tmp_path), environ={})


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """A loopback socket standing for the user's service: it must never see a connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        yield sock


@pytest.fixture
def own_service(tmp_path, listening) -> Config:
    """The stack config with REGION the user's own service (`demo: false`) on `listening`."""
    path = write_stack_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    port = listening.getsockname()[1]
    raw["regions"][REGION] = {"base_url": f"http://127.0.0.1:{port}", "demo": False}
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, environ={})


def never_connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    path = tmp_path / "run"
    monkeypatch.setenv("SIGNALCHECK_RUN_DIR", str(path))
    monkeypatch.delenv("SIGNALCHECK_CHAOS_DRY", raising=False)
    return path


def test_resolve_accepts_regions_and_allowlisted_urls(config) -> None:
    assert resolve(config, REGION).component == f"demo-{REGION}"
    assert resolve(config, REGION).base_url == str(config.regions[REGION].base_url).rstrip("/")
    assert resolve(config, "http://127.0.0.1:9/").base_url == "http://127.0.0.1:9"
    assert resolve(config, "http://127.0.0.1:9/").component is None


@pytest.mark.parametrize("target", [OUTSIDE, "https://example.com", "mars-1", "10.0.0.1"])
def test_resolve_refuses_what_is_not_allowed(config, target) -> None:
    with pytest.raises(TargetRefused, match=r"allowlist|neither a configured region"):
        resolve(config, target)


def test_every_action_but_the_probe_pauses_is_a_demo_action() -> None:
    """A new action is a demo action unless targets.PROBE_ACTIONS names it."""
    region_actions = {
        name
        for name, func in inspect.getmembers(actions, inspect.isfunction)
        if func.__module__ == actions.__name__
        and not name.startswith("_")
        and next(iter(inspect.signature(func).parameters), None) == "region"
    }
    assert region_actions == set(DEMO_ACTIONS) | PROBE_ACTIONS


def test_resolve_refuses_a_demo_action_on_your_own_service(own_service) -> None:
    url = str(own_service.regions[REGION].base_url)
    assert resolve(own_service, REGION).region == REGION, "anything else may target it"
    assert resolve(own_service, url).base_url == url.rstrip("/")
    with pytest.raises(TargetRefused) as refused:
        resolve(own_service, REGION, "kill_region")
    assert str(refused.value) == NOT_THE_DEMO.format(action="kill_region")
    with pytest.raises(TargetRefused, match=rf"^{url} \({REGION}\) is your service"):
        resolve(own_service, url, "inject_latency")
    assert resolve(own_service, "us-east-1", "kill_region").component == "demo-us-east-1"


@pytest.mark.parametrize("dry", ["", "1"])
@pytest.mark.parametrize("name", sorted(DEMO_ACTIONS))
def test_demo_actions_refuse_your_own_service_before_a_byte_or_a_record(
    own_service, listening, run_dir, monkeypatch, name, dry
) -> None:
    monkeypatch.setenv("SIGNALCHECK_CHAOS_DRY", dry)
    configuration = {"signalcheck_config": str(own_service.source)}
    with pytest.raises(TargetRefused) as refused:
        getattr(actions, name)(region=REGION, configuration=configuration, **DEMO_ACTIONS[name])
    assert str(refused.value) == NOT_THE_DEMO.format(action=name)
    assert never_connected(listening), f"{name} connected to the user's service"
    assert ledger(run_dir) == [], f"{name} wrote to the ledger"
    assert not (own_service.stack.data_dir / "open-faults.json").exists()


def test_probe_pauses_act_on_your_own_service_too(own_service, listening, run_dir) -> None:
    configuration = {"signalcheck_config": str(own_service.source)}
    paused = actions.pause_probes(region=REGION, configuration=configuration)
    assert paused["action"] == "probes_paused"
    assert [(e.field("action"), e.field("region")) for e in ledger(run_dir)] == [
        ("probes_paused", REGION)
    ]
    assert never_connected(listening)


@pytest.mark.parametrize("dry", [[], ["--dry"]])
def test_a_shipped_experiment_on_your_own_service_is_refused_with_one_line_and_exit_2(
    own_service, listening, monkeypatch, dry
) -> None:
    monkeypatch.setenv("SIGNALCHECK_CHAOS_REGION", REGION)
    result = CliRunner().invoke(
        app, ["chaos", "run", "region-outage", *dry, "-c", str(own_service.source)]
    )
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("signalcheck: refused the experiment, nothing was done: ")
    assert NOT_THE_DEMO.format(action="kill_region") in result.output
    assert not own_service.runs_dir.exists(), "a refused experiment started a run"
    assert never_connected(listening)


def test_stock_chaos_run_of_a_shipped_experiment_on_your_own_service_runs_nothing(
    own_service, listening, tmp_path
) -> None:
    run_dir = tmp_path / "refused"
    ran = run_chaos(
        EXPERIMENTS / "error-injection.json", own_service, run_dir, SIGNALCHECK_CHAOS_REGION=REGION
    )
    assert "signalcheck refused the experiment" in ran.stderr, tail(ran.stderr)
    assert journal(run_dir)["run"] == [], "method activities ran"
    (refused,) = ledger(run_dir)
    assert refused.field("phase") == "refused"
    assert NOT_THE_DEMO.format(action="inject_errors") in refused.field("reason")
    assert never_connected(listening)


def test_actions_refuse_before_doing_anything(config, run_dir) -> None:
    configuration = {"signalcheck_config": str(config.source)}
    with pytest.raises(TargetRefused, match="not in the allowlist"):
        inject_errors(region=OUTSIDE, configuration=configuration)
    with pytest.raises(TargetRefused, match="only a configured region"):
        kill_region(region="http://127.0.0.1:9", configuration=configuration)
    assert ledger(run_dir) == [], "a refused action wrote a fault"


@pytest.mark.parametrize("target", [OUTSIDE, "mars-1"])
def test_experiment_with_an_outside_target_is_refused_before_anything_runs(
    config, tmp_path, target
) -> None:
    run_dir = tmp_path / "refused"
    ran = run_chaos(
        EXPERIMENTS / "error-injection.json", config, run_dir, SIGNALCHECK_CHAOS_REGION=target
    )
    assert ran.returncode != 0, tail(ran.stderr)
    assert "signalcheck refused the experiment" in ran.stderr, tail(ran.stderr)
    run = journal(run_dir)
    assert run["status"] == "interrupted"
    assert run["steady_states"]["before"] is None, "the hypothesis ran"
    assert run["run"] == [], "method activities ran"
    assert run["rollbacks"] == [], "rollbacks ran"
    entries = ledger(run_dir)
    assert [e.field("phase") for e in entries if e.kind == "chaos"] == ["refused"]
    assert target in entries[0].field("reason")
    assert not [e for e in entries if e.kind in ("fault", "planned")]


def test_dry_run_shows_what_it_would_do_and_does_nothing(config) -> None:
    result = CliRunner().invoke(
        app,
        ["chaos", "run", str(EXPERIMENTS / "region-outage.json"), "--dry", "-c",
         str(config.source)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run_dirs = list(config.runs_dir.iterdir())
    assert len(run_dirs) == 1
    log = (run_dirs[0] / "chaostoolkit.log").read_text()
    assert f"dry run: would stop demo-{REGION}" in log
    assert f"dry run: would start demo-{REGION}" in log
    assert "Pausing" not in log, "a dry run waits out none of the experiment's pauses"
    assert journal(run_dirs[0])["status"] == "completed"
    assert not [e for e in ledger(run_dirs[0]) if e.kind in ("fault", "planned")]


def test_dry_run_still_refuses_outside_targets(config, monkeypatch) -> None:
    monkeypatch.setenv("SIGNALCHECK_CHAOS_REGION", OUTSIDE)
    result = CliRunner().invoke(
        app,
        ["chaos", "run", str(EXPERIMENTS / "latency-injection.json"), "--dry", "-c",
         str(config.source)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    assert "refused the experiment, nothing was done" in result.output
    assert not config.runs_dir.exists(), "a refused experiment started a run"


def test_config_error_is_one_line_and_exit_2(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("regions: {}\n")
    result = CliRunner().invoke(
        app, ["chaos", "run", str(EXPERIMENTS / "region-outage.json"), "-c", str(bad)]
    )
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "regions" in result.output
