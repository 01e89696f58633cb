"""The experiment titles an alert expectation's `experiment` glob may name, and the glob that
names none of them: an experiment renamed (or a glob mistyped) would otherwise turn its faults'
expectations into conditional skips for ever, and every run would look green.

Shared by `pytest validation/` (the titles of the shipped experiments, of the experiments this
run ran and of the others in their folders) and the game day (the titles of every experiment
in its experiments' folders).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.expectations import AlertExpectation
from signalcheck.shipped import EXPERIMENT_SUFFIXES, EXPERIMENTS

THIS_RUN = "this run"
"""Where a title known only from this run's ledger comes from."""


def folder_titles(*folders: Path) -> dict[str, str]:
    """Title -> file name of every experiment file (JSON or YAML) in the folders, each folder
    read once; a file that cannot be read as a mapping is not an experiment and is left out."""
    titles = {}
    unique = sorted({folder.resolve() for folder in folders})
    paths = [p for folder in unique if folder.is_dir() for p in folder.iterdir()]
    for path in sorted(paths):
        if path.suffix not in EXPERIMENT_SUFFIXES:
            continue
        load = json.loads if path.suffix == ".json" else yaml.safe_load
        try:
            experiment = load(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
            continue
        if isinstance(experiment, dict):
            titles[str(experiment.get("title", ""))] = path.name
    return titles


def run_folders(context: Context) -> set[Path]:
    """The folders of the experiment files this run's chaos runs were started with."""
    return {
        Path(str(e.field("experiment_file"))).parent
        for e in context.entries
        if e.kind == "chaos" and e.field("experiment_file")
    }


def run_titles(context: Context) -> dict[str, str]:
    """Title -> THIS_RUN of the experiments whose faults this run planned or injected."""
    return {
        str(e.field("experiment")): THIS_RUN
        for e in context.entries
        if e.field("experiment")
        and (e.kind == "fault" or (e.kind == "planned" and e.field("actor") == "fault"))
    }


def known_titles(context: Context) -> dict[str, str]:
    """The titles a validation knows: the shipped experiments', this run's experiments' and
    those beside them in their folders (the game day's siblings of what ran). A game day of
    the shipped experiments runs from the shipped folder: it is read once."""
    return folder_titles(EXPERIMENTS, *run_folders(context)) | run_titles(context)


def unmatched_glob(
    exp: AlertExpectation, known: Callable[[], dict[str, str]], context: Context
) -> str | None:
    """Why `exp` judges nothing, when it judges only the faults of experiments whose title
    matches a glob that no known experiment's title (`known()`: title -> where, asked only
    then) matches, while this run planned a fault of its action: a renamed experiment would
    turn it into a conditional skip. Names the glob, the known titles and the titles this
    run's faults came from; None when the glob matches a known title or nothing of its
    action was planned."""
    planned = context.planned("fault", exp.fault)
    if exp.experiment is None or not planned:
        return None
    titles = known()
    if any(exp.judges(t) for t in titles):
        return None
    listed = "; ".join(f"{title!r} ({where})" for title, where in sorted(titles.items()))
    came = ", ".join(sorted({repr(p.field("experiment")) for p in planned}))
    return (
        f"alerts:{exp.name} judges the {exp.fault} faults of experiments titled "
        f"{exp.experiment!r}, and no experiment's title matches it (known: {listed}); this "
        f"run's {exp.fault} faults came from {came}: rename the glob or the title, or it "
        "never judges anything"
    )


def unless_unmatched(expectation: object, outcome: Outcome, context: Context) -> Outcome:
    """`outcome`, unless it is the conditional skip of an alert expectation whose glob no
    title `known_titles` holds matches while this run planned a fault of its action: then a
    failure saying so (the skip would hide a renamed experiment)."""
    if outcome.skipped is None or not isinstance(expectation, AlertExpectation):
        return outcome
    problem = unmatched_glob(expectation, lambda: known_titles(context), context)
    return outcome if problem is None else Outcome(passed=False, summary=problem)
