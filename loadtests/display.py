"""What `signalcheck load` shows: a live progress line while Locust runs, then a summary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from signalcheck.load_profiles import LoadPlan
from signalcheck.loadtests.runner import LoadOutcome, RunProgress


@contextmanager
def progress_display(console: Console, plan: LoadPlan) -> Iterator[Any]:
    """A progress bar over the plan's duration; yields the callback the runner calls."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=20),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        shape = plan.own_shape or plan.shape
        users = f"{plan.locustfile.name}: " if plan.locustfile else ""
        title = f"{plan.profile} ({users}{shape}) → {plan.region}"
        task = bar.add_task(title, total=plan.duration, status="starting locust")

        def update(now: RunProgress) -> None:
            bar.update(
                task,
                completed=min(now.elapsed, plan.duration),
                status=f"{now.users} users {now.rps:.0f} req/s {now.failures}/{now.requests} fail",
            )

        yield update
        bar.update(task, completed=plan.duration)


def print_summary(console: Console, outcome: LoadOutcome) -> None:
    entry = outcome.entry
    table = Table("target", "route", "status class", "requests")
    targets = {
        entry["region"]: entry["requests"],
        "rum ingest": entry["rum_requests"],
        **entry["other_requests"],
    }
    for target, routes in targets.items():
        for route, classes in sorted(routes.items()):
            for status, count in sorted(classes.items()):
                table.add_row(target, route, status, str(count))
    console.print(table)
    checks = Table("threshold", "limit", "actual", "result")
    for result in entry["thresholds"]:
        actual = "-" if result["actual"] is None else f"{result['actual']:.4g}"
        verdict = "[green]pass" if result["passed"] else "[red]FAIL"
        checks.add_row(result["name"], f"{result['limit']:g}", actual, verdict)
    if entry["thresholds"]:
        console.print(checks)
    console.print(
        f"{entry['total_requests']} requests, error rate {entry['error_rate']:.2%}, "
        f"window {entry['end'] - entry['start']:.1f}s; reports in {outcome.run_dir}",
        highlight=False,
        soft_wrap=True,
    )
