"""An alert expectation's `experiment` glob that no experiment's title matches fails
`pytest validation/` once the run planned a fault of its action, instead of skipping: a renamed
experiment's faults would otherwise be judged by nothing, and the run would look green."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from signalcheck.ledger import Ledger
from tests.plugin.conftest import ONLY_SIGNALCHECK
from tests.plugin.test_plugin import _pytest
from tests.validation.support import _junit_results

RENAMED = "A drill of our region"
"""The title this run's experiment has now: it was 'Our region drill, staged'."""
EXPECTATIONS = {
    "alerts": [
        {"name": "drill-inhibits", "conditional": True, "alert": "ErrorBudgetBurnFast",
         "fault": "kill", "experiment": "Our region drill*", "suppressed_by": "ServiceDown",
         "resolve_budget": 30},
        {"name": "inhibition-inhibits", "conditional": True, "alert": "ErrorBudgetBurnFast",
         "fault": "kill", "experiment": "A region pages once*", "suppressed_by": "ServiceDown",
         "resolve_budget": 30},
        {"name": "drill-chats", "conditional": True, "alert": "HighLatency",
         "fault": "latency", "experiment": "Our region drill*"},
    ]
}  # fmt: skip


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "globs.yaml"
    config = {
        "regions": {"us-east-1": {"base_url": "http://127.0.0.1:1"}},
        "expectations": EXPECTATIONS,
        "runs_dir": str(tmp_path / "runs"),
    }
    path.write_text(yaml.safe_dump(config))
    return path


def _ledger_of_the_renamed_drill(tmp_path: Path) -> Path:
    """A run whose experiment, titled RENAMED, planned and injected a kill fault."""
    ledger = Ledger(tmp_path / "runs" / "drill" / "ledger.jsonl")
    ledger.path.parent.mkdir(parents=True)
    fault = {"action": "kill", "region": "us-east-1", "experiment": RENAMED}
    ledger.append("planned", actor="fault", probed=False, alerts=[], **fault)
    ledger.append("fault", start=10.0, end=20.0, params={}, **fault)
    return ledger.path


def test_a_glob_no_known_title_matches_fails_when_its_fault_was_planned(tmp_path, workdir):
    junit = workdir / "junit.xml"
    done = _pytest(
        workdir, f"--signalcheck-config={_config(tmp_path)}",
        f"--ledger={_ledger_of_the_renamed_drill(tmp_path)}", f"--junitxml={junit}",
        "-o", "junit_family=xunit1", env=ONLY_SIGNALCHECK,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    results = _junit_results(junit)
    renamed = results["alerts:drill-inhibits"]
    assert renamed.outcome == "failed", output[-3000:]
    assert (
        "alerts:drill-inhibits judges the kill faults of experiments titled 'Our region drill*', "
        "and no experiment's title matches it (known: " in renamed.message
    )
    assert f"'{RENAMED}' (this run)" in renamed.message
    assert "'A region pages once, for the cause" in renamed.message  # a shipped title
    assert f"this run's kill faults came from '{RENAMED}'" in renamed.message
    # a glob naming a shipped experiment this run did not run, and one whose fault this run
    # did not plan, still skip: nothing of theirs was planned
    assert results["alerts:inhibition-inhibits"].outcome == "skipped", output[-3000:]
    assert results["alerts:drill-chats"].outcome == "skipped", output[-3000:]


def test_a_glob_naming_an_experiment_beside_the_one_that_ran_still_skips(tmp_path, workdir):
    """Two of the user's experiments fault the same way; this run ran the other one
    (`signalcheck chaos run` records its file on the run's `chaos` entry): the glob names a
    title in that file's folder, so nothing was renamed and the expectation skips."""
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "drill.yaml").write_text(yaml.safe_dump({"title": "Our region drill, staged"}))
    (folder / "other.json").write_text(json.dumps({"title": RENAMED}))
    (folder / "notes.yaml").write_text("- not an experiment\n")
    ledger_path = _ledger_of_the_renamed_drill(tmp_path)
    Ledger(ledger_path).append(
        "chaos", experiment=RENAMED, phase="experiment", start=9.0, end=None,
        experiment_file=str(folder / "other.json"),
    )  # fmt: skip
    junit = workdir / "junit.xml"
    done = _pytest(
        workdir, f"--signalcheck-config={_config(tmp_path)}", f"--ledger={ledger_path}",
        f"--junitxml={junit}", "-o", "junit_family=xunit1", env=ONLY_SIGNALCHECK,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert _junit_results(junit)["alerts:drill-inhibits"].outcome == "skipped", output[-3000:]
