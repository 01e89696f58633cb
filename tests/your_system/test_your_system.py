"""Issue 24's "Must show": signalcheck around a service it has never seen, as a user runs it.

The service is httpbin (a Flask app from PyPI that nobody here wrote) under gunicorn, three
regions on loopback, instrumented the way its users do it: OpenTelemetry zero-code
instrumentation for traces and logs over OTLP/HTTP, prometheus-flask-exporter for metrics on a
port of their own (tests/your_system/app.py). From an empty folder, as docs/your-system.md
says (the user's files: tests/your_system/user.py):

1. `signalcheck init`, the config edits, `signalcheck up` (no demo process started),
   `signalcheck probe --once`, `signalcheck validate`: green;
2. the user's own locustfile (`signalcheck load`): `load-counted-by-service` judged on
   prometheus-flask-exporter's label names (url_rule, status);
3. a stock Chaos Toolkit `process` fault marked for signalcheck (SIGSTOP, then SIGCONT, of one
   region's gunicorn) in a game day (`signalcheck gameday --plan`): the user's `HttpbinDown`
   alert detected, with its time to detect;
4. a rule edit and `signalcheck reload` (Prometheus keeps running), then probe and validate:
   green, no stale alert of the fault before counted against it;
5. one region restarted with its OTLP endpoint at a dead port: the traces expectations fail,
   for that region alone.

The steps run in order on one stack (the module's); each says what it ran and how long it took.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import psutil
import pytest

from signalcheck.stack.ports import free_port
from tests.your_system import user
from tests.your_system.conftest import YourSystem

pytestmark = [
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.timeout(900),
]

STACK_COMPONENTS = {"capture", "pushgateway", "alertmanager", "rum-ingest", "prometheus"}
CONDITIONAL = {"load-counted-by-service", "frozen-region-pages"}
TRACES = {"get-traces-complete", "workflow-traces-complete"}
BROKEN_REGION = "ap-south-1"
FROZEN = user.FROZEN_REGION
DETECT_BUDGET = 60.0
OUTPUT_TAIL = 4000


def passed_or_skipped(results: dict[str, tuple[str, str]], skippable: set[str]) -> list[str]:
    """The expectations that did not pass (or skip, for those that may)."""
    return [
        f"{name}: {status}: {message[:600]}"
        for name, (status, message) in results.items()
        if status != "passed" and not (status == "skipped" and name in skippable)
    ]


def state(system: YourSystem) -> dict[str, dict]:
    """The local stack's recorded components by name."""
    return {item["name"]: item for item in json.loads((system.data_dir / "state.json").read_text())}


def demo_processes(system: YourSystem) -> list[str]:
    """Processes of signalcheck's demo started for this user's folder (by working folder or
    environment)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        command = " ".join(proc.info["cmdline"] or [])
        if "signalcheck.demo" not in command and "signalcheck/demo" not in command:
            continue
        try:
            env = proc.environ()
        except psutil.Error:
            env = {}
        ours = str(system.root)
        if ours in (proc.info["cwd"] or "") or any(ours in value for value in env.values()):
            found.append(f"pid {proc.pid}: {command}")
    return found


def assert_the_service_is_the_users(system: YourSystem) -> None:
    """`up` started no demo, and every region's ports are still the user's gunicorns'."""
    assert set(state(system)) == STACK_COMPONENTS, "only the backends, no demo region"
    assert demo_processes(system) == []
    listening = {
        conn.laddr.port: conn.pid
        for conn in psutil.net_connections("tcp")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.ip == "127.0.0.1"
    }
    for region, app in system.apps.items():
        pids = app.pids()
        assert pids, f"{region}'s gunicorn is gone: {app.tail()}"
        assert listening.get(app.port) in pids, f"{region}'s port {app.port}: {listening}"
        assert listening.get(app.metrics_port) in pids, f"{region}'s metrics port"


def prometheus(system: YourSystem, path: str, **params: str) -> dict:
    url = f"http://127.0.0.1:{system.stack_ports['prometheus']}{path}"
    response = httpx.get(url, params=params, timeout=5)
    response.raise_for_status()
    return response.json()["data"]


def wait_scraped_up(system: YourSystem, region: str, since: float, timeout: float = 20) -> None:
    """Until Prometheus scraped the region's target successfully after `since` (unix time)."""
    query = f'timestamp(up{{job="httpbin", region="{region}"}} == 1)'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = prometheus(system, "/api/v1/query", query=query)["result"]
        if result and float(result[0]["value"][1]) > since:
            return
        time.sleep(0.5)
    raise AssertionError(f"{region} not scraped up within {timeout:g}s after its restart")


def report_cases(report: Path) -> dict[str, dict[str, str]]:
    """A game day's junit.xml: test case name -> its properties, and `outcome`."""
    cases = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        outcome = next(
            (kind for kind in ("failure", "skipped") if case.find(kind) is not None), "passed"
        )
        properties = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        cases[case.get("name", "")] = {**properties, "outcome": outcome}
    return cases


# ---------------------------------------------------------------------------------- steps


def init_up_probe_validate_green(your_system: YourSystem) -> None:
    system = your_system
    assert list(system.folder.iterdir()) == [], "an empty folder"

    done = system.signalcheck("init")
    assert done.returncode == 0, done.stderr
    ports = {region: app.port for region, app in system.apps.items()}
    ports |= {f"{region}-metrics": app.metrics_port for region, app in system.apps.items()}
    user.edit_config(system.config_path, user.fill(user.CONFIG_EDITS, ports), system.stack_ports)
    (system.folder / "rules").mkdir()
    (system.folder / "rules" / "httpbin.yml").write_text(user.RULES)
    (system.folder / "alertmanager.yml").write_text(user.ALERTMANAGER)
    (system.folder / "locustfile.py").write_text(user.LOCUSTFILE)

    done = system.signalcheck("up", timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_the_service_is_the_users(system)
    status = system.signalcheck("status")
    assert status.returncode == 0 and "demo" not in status.stdout, status.stdout

    done = system.signalcheck("probe", "--once")
    assert done.returncode == 0, done.stdout + done.stderr

    done, results = system.validate()
    problems = passed_or_skipped(results, CONDITIONAL)
    assert done.returncode == 0 and not problems and results, "\n".join(problems)
    assert results["get-traces-complete"][0] == "passed"


def own_locustfile_counted_by_the_service_on_its_own_labels(
    your_system: YourSystem,
) -> None:
    system = your_system
    done = system.signalcheck("load", "--profile", "httpbin", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    ledger = system.newest_run() / "ledger.jsonl"
    (load,) = [e for e in map(json.loads, ledger.read_text().splitlines()) if e["kind"] == "load"]
    print("load:", load["requests"])
    assert load["user_classes"] == ["HttpbinUser"], load
    assert set(load["requests"]) == {"/get", "/post", "/status/<codes>"}, "url_rule templates"
    assert set(load["requests"]["/status/<codes>"]) == {"4xx"}, load["requests"]

    # The load run's own verdict: the probes' requests must stay out of its window.
    done, results = system.validate("-k", "load-counted-by-service")
    assert results.get("load-counted-by-service", ("missing", ""))[0] == "passed", results
    assert done.returncode == 0, done.stdout


def marked_stock_fault_detected_in_a_game_day(your_system: YourSystem) -> None:
    system = your_system
    frozen = system.apps[FROZEN]
    experiment = user.fill(
        user.EXPERIMENT,
        {
            "region": FROZEN,
            "pidfile": frozen.pidfile,
            "url": frozen.base_url,
        },
    )
    (system.folder / "freeze-region.json").write_text(experiment)
    (system.folder / "plan.yaml").write_text(user.PLAN)

    done = system.signalcheck("gameday", "--plan", "plan.yaml", timeout=300)
    cases = report_cases(system.newest_run() / "junit.xml")
    detections = {name: case for name, case in cases.items() if "time_to_detect" in case}
    print("detections:", detections)
    assert done.returncode == 0, done.stdout[-OUTPUT_TAIL:] + done.stderr[-OUTPUT_TAIL:]
    detection = detections.pop(f"A frozen httpbin region pages: HttpbinDown for {FROZEN}")
    assert detections == {}, "no other alert detected"
    assert 0 < float(detection["time_to_detect"]) <= DETECT_BUDGET, detection
    assert float(detection["time_to_resolve"]) > 0, detection
    judged = cases["chaos / alerts:frozen-region-pages"]
    assert judged["outcome"] == "passed", judged
    assert 0 < float(judged["time_to_appear"]) <= DETECT_BUDGET, judged
    failed = [name for name, case in cases.items() if case["outcome"] == "failure"]
    assert failed == [], failed
    for region, app in system.apps.items():
        statuses = {proc.status() for proc in app.processes()}
        assert statuses and psutil.STATUS_STOPPED not in statuses, f"{region}: {statuses}"


def reload_after_a_rule_edit_keeps_prometheus_and_stays_green(
    your_system: YourSystem,
) -> None:
    system = your_system
    rules = system.folder / "rules" / "httpbin.yml"
    old_for, new_for, added = user.RULES_EDIT
    text = rules.read_text()
    assert text.count(old_for) == 1
    rules.write_text(text.replace(old_for, new_for) + added)
    before = state(system)["prometheus"]["pid"]

    done = system.signalcheck("reload", timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert state(system)["prometheus"]["pid"] == before, "reloaded, not restarted"
    loaded = {
        rule["name"]: rule
        for group in prometheus(system, "/api/v1/rules", type="alert")["groups"]
        for rule in group["rules"]
    }
    assert set(loaded) == {"HttpbinDown", "HttpbinServerErrors"}, loaded
    assert loaded["HttpbinDown"]["duration"] == 4

    done = system.signalcheck("probe", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    done, results = system.validate()
    problems = passed_or_skipped(results, CONDITIONAL)
    assert done.returncode == 0 and not problems and results, "\n".join(problems)


def a_dead_otlp_endpoint_fails_the_traces_of_that_region_alone(
    your_system: YourSystem,
) -> None:
    system = your_system
    broken = system.apps[BROKEN_REGION]
    broken.stop()
    broken.otlp_endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    broken.start()
    wait_scraped_up(system, BROKEN_REGION, since=time.time())

    done = system.signalcheck("probe", "--once")
    assert done.returncode == 0, "the service itself answers: " + done.stdout + done.stderr
    done, results = system.validate()
    assert done.returncode == 1, done.stdout
    failed = {name for name, (status, _) in results.items() if status != "passed"}
    assert failed - CONDITIONAL == TRACES, passed_or_skipped(results, CONDITIONAL)
    for name in TRACES:
        message = results[name][1]
        assert f", {BROKEN_REGION})" in message and "not found" in message, message
        for healthy in set(system.apps) - {BROKEN_REGION}:
            assert healthy not in message, message


def test_your_own_service_from_an_empty_folder_to_a_game_day(your_system: YourSystem) -> None:
    """The steps build on each other in one folder and one stack, so they run in this order as
    one test (one worker); each says what it ran and how long it took."""
    for step in (
        init_up_probe_validate_green,
        own_locustfile_counted_by_the_service_on_its_own_labels,
        marked_stock_fault_detected_in_a_game_day,
        reload_after_a_rule_edit_keeps_prometheus_and_stays_green,
        a_dead_otlp_endpoint_fails_the_traces_of_that_region_alone,
    ):
        print(f"\n--- {step.__name__}")
        step(your_system)
