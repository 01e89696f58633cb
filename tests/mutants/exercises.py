"""What a mutant's run does before `pytest validation/` judges it, as users run it: the
shipped checks' probe pass (every region, pushed to the Pushgateway), for routing mutants
first a region killed by the real chaos action until its alert has notified, and for load
mutants a short load run on one region after the probe pass."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from signalcheck.backends.capture import CaptureClient
from signalcheck.chaos import faultlog
from signalcheck.chaos.actions import kill_region, start_region
from signalcheck.chaos.context import CONFIG_KEY, RUN_DIR_ENV
from signalcheck.config import Config
from signalcheck.load_profiles import plan_for
from signalcheck.loadtests.runner import run_plan
from signalcheck.stack import LocalStack
from signalcheck.waiting import wait_for
from tests.mutants.edits import wait_scraped
from tests.validation.support import SuiteRun, new_ledger, probe_pass, run_suite

ALERT = "ServiceDown"
ALERT_WAIT = 90.0
"""Seconds for ServiceDown to fire and notify: `for: 30s`, an evaluation, group_wait."""
LOAD_SECONDS = 6.0
"""Length of a load mutant's run: a dozen workflows (token, create, read, delete)."""


@dataclass(frozen=True)
class Stage:
    """The running stack a mutant is applied to and judged on."""

    stack: LocalStack
    config: Config
    """The suite config loaded: what `signalcheck probe --once` runs."""
    suite_config: Path


@dataclass(frozen=True)
class Exercise:
    name: str
    run: Callable[[Stage], SuiteRun]


def _probe_pass(stage: Stage) -> SuiteRun:
    ledger = new_ledger(stage.config)
    probe_pass(stage.config, ledger)
    return run_suite(stage.suite_config, ledger.path)


PROBE_PASS = Exercise("probe pass (shipped checks, every region)", _probe_pass)


def assert_healthy(stage: Stage) -> SuiteRun:
    """A probe pass of the healthy stack, and every test of its `pytest validation/` run passed
    (or skipped, saying so). It starts once every region was scraped after what came before (a
    mutant's exercise or undo, a region restarted): the counters' values before the run's
    window then hold all of that."""
    now = time.time()
    for region in stage.config.regions.values():
        wait_scraped(stage.config, region.port, after=now)
    run = PROBE_PASS.run(stage)
    assert run.returncode == 0 and run.failed() == set(), run.output[-4000:]
    return run


def _kill(region: str) -> Callable[[Stage], SuiteRun]:
    def run(stage: Stage) -> SuiteRun:
        ledger = new_ledger(stage.config)
        chaos = {CONFIG_KEY: str(stage.suite_config)}
        port = stage.config.regions[region].port
        with (
            pytest.MonkeyPatch.context() as env,
            CaptureClient(stage.config.backends.capture) as capture,
        ):
            env.setenv(RUN_DIR_ENV, str(ledger.path.parent))
            faultlog.plan_fault(ledger, faultlog.KILL, region, experiment="mutant")
            start = kill_region(region, configuration=chaos)["start"]
            try:
                wait_for(
                    lambda: capture.notifications(
                        alertname=ALERT, since=start, label=f"region={region}"
                    ),
                    timeout=ALERT_WAIT,
                    what=f"a {ALERT} notification for {region}",
                )
            finally:
                restarted = time.time()
                start_region(region, configuration=chaos)
        wait_scraped(stage.config, port, after=restarted)
        probe_pass(stage.config, ledger)
        return run_suite(stage.suite_config, ledger.path)

    return run


def kill_fault(region: str) -> Exercise:
    """The real chaos actions kill the region and, once ServiceDown has notified, start it
    again (the ledger gets their `planned` and `fault` entries); then a probe pass. Nothing
    lingers: ServiceDown resolves at the first good scrape (an errors fault would leave the
    SLO burn-rate alerts pending for half an hour, and every later run unquiet)."""
    return Exercise(f"{region} killed until {ALERT} notifies, then a probe pass", _kill(region))


def _load(region: str) -> Callable[[Stage], SuiteRun]:
    def run(stage: Stage) -> SuiteRun:
        ledger = new_ledger(stage.config)
        probe_pass(stage.config, ledger)
        plan = plan_for(stage.config, "smoke", region=region, duration=LOAD_SECONDS)
        run_plan(plan.model_copy(update={"user_mix": {"workflow": 1}}), ledger.path.parent)
        return run_suite(stage.suite_config, ledger.path)

    return run


def load_run(region: str) -> Exercise:
    """A probe pass, then the shipped smoke profile's workflow users on `region` for
    LOAD_SECONDS (its `load` entry in the same ledger): the probe pass comes first, so nothing
    else sends to the region while the load's counts are read."""
    return Exercise(
        f"a probe pass, then {LOAD_SECONDS:g} s of workflow load on {region}", _load(region)
    )


def _passes_apart(pause: float) -> Callable[[Stage], SuiteRun]:
    def run(stage: Stage) -> SuiteRun:
        ledger = new_ledger(stage.config)
        probe_pass(stage.config, ledger)
        time.sleep(pause)  # the run's length, not a wait for anything
        probe_pass(stage.config, ledger)
        return run_suite(stage.suite_config, ledger.path)

    return run


def probe_passes_apart(pause: float) -> Exercise:
    """Two probe passes `pause` seconds apart in one ledger: a run long enough for a silence
    of the heartbeat past its tolerance (18 s on the local stack) to fall inside it."""
    return Exercise(f"two probe passes {pause:g} s apart", _passes_apart(pause))


def _planned_probe_pass(stage: Stage) -> SuiteRun:
    ledger = new_ledger(stage.config)
    ledger.append("planned", actor="probe", passes=1)
    probe_pass(stage.config, ledger)
    return run_suite(stage.suite_config, ledger.path)


PLANNED_PROBE_PASS = Exercise(
    "a probe pass planned first, as a game day plans its passes: the run starts at the plan, "
    "before Chromium's launch",
    _planned_probe_pass,
)
