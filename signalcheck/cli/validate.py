"""`signalcheck validate`: the shipped pytest suite (one test per expectation) on a run
ledger, with JUnit XML for CI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from signalcheck.cli.common import ConfigOption, console, user_errors
from signalcheck.config import load_config

app = typer.Typer()

JUNIT_FILE = "validation-junit.xml"


@app.command()
@user_errors
def validate(
    config: ConfigOption = None,
    ledger: Annotated[
        Path | None,
        typer.Option(help="Run ledger to judge (default: the newest under the config's runs_dir)."),
    ] = None,
    junit_xml: Annotated[
        Path | None,
        typer.Option(
            "--junit-xml", help=f"JUnit XML report (default: {JUNIT_FILE} by the ledger)."
        ),
    ] = None,
    pytest_args: Annotated[
        list[str] | None, typer.Argument(help="Extra pytest arguments, after `--`.")
    ] = None,
) -> None:
    """Judge a run: one test per expectation of the config, against the run ledger.

    Runs pytest with the signalcheck plugin and none of the current folder's pytest
    settings; time to appear and time waited are properties in the JUnit XML. Exit 0 when
    every expectation passed, 1 when one failed or could not be judged (a backend unavailable:
    a pytest error, apart from the failures), 2 for a bad config or ledger, or nothing to
    judge (no actor touched the system, no expectation configured).
    """
    import pytest

    from signalcheck.pytest_plugin import SUITE
    from signalcheck.pytest_plugin.run import ledger_path, read_run

    loaded = load_config(config)
    path = ledger_path(loaded, ledger)
    read_run(loaded, path)  # nothing to judge: one line and exit 2 before pytest starts
    junit = junit_xml or path.parent / JUNIT_FILE
    code = pytest.main(
        [
            str(SUITE),
            *("-c", os.devnull, "--rootdir", str(Path.cwd())),  # not the folder's settings
            # the plugin by its entry point even with autoload off; no assertion rewriting:
            # the suite asserts nothing, and signalcheck is imported already
            *("-p", "signalcheck", "-p", "no:cacheprovider", "--assert=plain"),
            *("-o", "junit_family=xunit1", "-o", "filterwarnings=ignore::DeprecationWarning"),
            f"--signalcheck-config={loaded.source}",
            f"--ledger={path}",
            f"--junitxml={junit}",
            *(pytest_args or []),
        ]
    )
    if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        console.print(f"JUnit XML: {junit}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2 if code == pytest.ExitCode.USAGE_ERROR else int(code))
