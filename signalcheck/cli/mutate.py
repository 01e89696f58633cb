"""`signalcheck mutate`: how much of the alerting config does the exercise prove? (its actors:
signalcheck/actors.py)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from signalcheck.cli.common import ConfigOption, console, fail, user_errors
from signalcheck.config import load_config
from signalcheck.errors import ConfigError
from signalcheck.stack.running import running_stack

if TYPE_CHECKING:
    from signalcheck.mutate.coverage import CoverageReport

app = typer.Typer()
DEFAULT_MAX_SHADOWS = 24
STATUS_STYLE = {"caught": "green", "not caught": "red", "not exercised": "yellow", "error": "red"}


@app.command()
@user_errors
def mutate(
    config: ConfigOption = None,
    experiments: Annotated[
        list[str] | None,
        typer.Option(
            "--experiments",
            "-e",
            help="Experiment names (chaos/experiments/<name>.json) or paths; default: those "
            "injecting a fault the config's alert expectations cover.",
        ),
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Mutant name globs, e.g. 'HighErrorRate.*'.")
    ] = None,
    max_shadows: Annotated[
        int, typer.Option(min=1, help="Most shadow pipelines to run at once.")
    ] = DEFAULT_MAX_SHADOWS,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the table as JSON.")
    ] = None,
    html_path: Annotated[
        Path | None, typer.Option("--html", help="Write the table as HTML.")
    ] = None,
) -> None:
    """Alert coverage: which one-change mutants of the alerting config the exercise catches.

    Each mutant (of a rule, route, inhibit rule, scrape job) runs in a shadow pipeline.

    A shadow that could not be judged (a process of it exited, a backend unavailable) is an
    error, never a catch. Exit 0: every mutant caught; 1: not every one (not caught, not
    exercised or an error); 2: usage or config error, baseline not green.
    """
    from signalcheck.actors import mutate_actors
    from signalcheck.errors import BaselineUnhealthy
    from signalcheck.ledger import new_run_dir
    from signalcheck.mutate.derive import derive, load_sources
    from signalcheck.mutate.experiments import experiment_paths, faults_of
    from signalcheck.mutate.run import Mutation, select

    loaded = load_config(config)
    mutants = select(derive(load_sources(loaded)), only or [])
    if not mutants:
        raise ConfigError(f"--only {' '.join(only or [])}: matches no mutant")
    chosen = experiment_paths(loaded, experiments or [])
    run_dir = new_run_dir(loaded.runs_dir)
    console.print(
        f"mutate: {len(mutants)} mutant(s), experiments {[p.stem for p in chosen]}, in {run_dir}",
        highlight=False,
    )
    mutation = Mutation(
        loaded, mutants, chosen, faults_of(chosen), mutate_actors(), run_dir, max_shadows,
        say=lambda line: console.print(f"[dim]{escape(line)}"),
    )  # fmt: skip
    try:
        with running_stack(loaded), mutation.exercised() as done:
            report = done.coverage()
    except BaselineUnhealthy as exc:
        fail(f"baseline not healthy, nothing to measure: {exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        fail("interrupted; faults restored, shadows stopped")
        raise typer.Exit(130) from None
    print_table(report)
    if json_path:
        json_path.write_text(json.dumps(report.as_dict(), indent=2))
    if html_path:
        from signalcheck.mutate.html import write_html

        write_html(report, html_path)
    raise typer.Exit(0 if report.passed else 1)


def print_table(report: CoverageReport) -> None:
    table = Table("mutant", "part", "change", "verdict", "caught by / missing", title="coverage")
    for row in report.rows:
        style = STATUS_STYLE[row.status]
        table.add_row(
            row.mutant, escape(row.part), escape(row.change), f"[{style}]{row.status}",
            escape(", ".join(row.caught_by) if row.caught_by else row.why),
        )  # fmt: skip
    console.print(table)
    style = "green" if report.passed else "red"
    console.print(f"[{style}]{escape(report.summary())}", highlight=False, soft_wrap=True)
