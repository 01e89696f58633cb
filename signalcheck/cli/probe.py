"""`signalcheck probe`: synthetic checks once (CronJob) or as a daemon."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from signalcheck.cli.common import ConfigOption, errors, user_errors
from signalcheck.config import load_config
from signalcheck.errors import ConfigError

app = typer.Typer()


@app.command()
@user_errors
def probe(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Run one pass, push it, exit.")] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Run a pass every interval; serve /metrics.")
    ] = False,
    region: Annotated[
        str | None, typer.Option(help="Only this region (a CronJob deployed in it).")
    ] = None,
    interval: Annotated[str, typer.Option(help="Time between passes with --serve.")] = "30s",
    host: Annotated[str, typer.Option(help="Address of /metrics with --serve.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of /metrics with --serve.")] = 9477,
    concurrency: Annotated[int, typer.Option(min=1, help="Checks running at once.")] = 8,
    ledger: Annotated[
        Path | None, typer.Option(help="Append to this ledger instead of a new run's.")
    ] = None,
    push: Annotated[bool, typer.Option(help="Push --once results to the Pushgateway.")] = True,
) -> None:
    """Run the synthetic checks of the config in every region (or one).

    --once prints a JSON summary and exits 0 (all passed), 1 (a check failed), 2 (config
    error) or 3 (the Pushgateway push failed; results are still printed and in the ledger).
    """
    import json

    from signalcheck.durations import parse_duration
    from signalcheck.probes.once import run_once
    from signalcheck.probes.serve import serve as serve_forever

    if once == serve:
        raise ConfigError("probe: give exactly one of --once or --serve")
    loaded = load_config(config)
    if serve:
        serve_forever(
            loaded,
            region=region,
            interval=parse_duration(interval, "--interval"),
            host=host,
            port=port,
            concurrency=concurrency,
            on_pass=lambda line: errors.print(line, markup=False, soft_wrap=True),
        )
        return
    summary, code = run_once(
        loaded, region=region, concurrency=concurrency, ledger_path=ledger, push=push
    )
    print(json.dumps(summary, indent=2))
    if summary["push"]["error"]:
        errors.print(f"signalcheck: push failed: {summary['push']['error']}", markup=False)
    raise typer.Exit(code)
