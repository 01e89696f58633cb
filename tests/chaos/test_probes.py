"""The probes against the real stack: synthetic checks through the probe runner, expectations
through the evidence engine, each recorded in the run's ledger."""

from __future__ import annotations

import pytest

from signalcheck.chaos.actions import clear_faults, inject_not_ready
from signalcheck.chaos.probes import probe_checks_pass, query_value, signals_present
from tests.chaos.conftest import REGION, ledger

pytestmark = pytest.mark.stack


@pytest.fixture
def configuration(stack, stack_config, tmp_path, monkeypatch) -> dict:
    monkeypatch.setenv("SIGNALCHECK_RUN_DIR", str(tmp_path))
    return {"signalcheck_config": str(stack_config.source)}


def test_probe_checks_pass_until_a_region_is_not_ready(configuration, tmp_path) -> None:
    assert probe_checks_pass(configuration=configuration) is True
    inject_not_ready(REGION, configuration=configuration)
    try:
        assert probe_checks_pass(REGION, configuration=configuration) is False
        assert probe_checks_pass("us-east-1", configuration=configuration) is True
    finally:
        clear_faults(REGION, configuration=configuration)
    assert probe_checks_pass(REGION, checks=["ready"], configuration=configuration) is True

    probes = [e for e in ledger(tmp_path) if e.kind == "probe" and e.field("check") == "ready"]
    assert len(probes) == 3 + 1 + 1 + 1
    assert [p.field("outcome") for p in probes if p.field("region") == REGION] == [
        "success", "failure", "success",
    ]  # fmt: skip
    (fault,) = [e for e in ledger(tmp_path) if e.kind == "fault" and e.field("end")]
    assert fault.field("action") == "not_ready"


def test_signals_present_judges_expectations_against_the_run(configuration, tmp_path) -> None:
    present = {"metrics": [{"name": "requests", "query": "demo_build_info", "every_region": True}]}
    missing = {"metrics": [{"name": "nothing", "query": "no_such_metric_total", "budget": 1}]}
    assert signals_present(present, configuration=configuration) is True
    assert signals_present(missing, configuration=configuration) is False
    checks = [e.field("checks") for e in ledger(tmp_path) if e.kind == "signals"]
    assert [[c["id"], c["passed"]] for (c,) in checks] == [
        ["metrics:requests", True],
        ["metrics:nothing", False],
    ]


def test_query_value_is_one_number_or_none(configuration) -> None:
    assert query_value("vector(3)", configuration=configuration) == 3.0
    assert query_value("no_such_metric_total", configuration=configuration) is None
    with pytest.raises(ValueError, match="aggregate"):
        query_value("demo_build_info", configuration=configuration)
