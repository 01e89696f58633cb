"""The `signalcheck` command line: one module per command family, joined here.

Commands import their feature folder (probes/, rum_ingest/, loadtests/, chaos/) inside the
command, so `signalcheck/` itself depends on none of them.
"""

import typer

from signalcheck.cli import chaos, gameday, init, load, mutate, probe, rum, stack, validate

app = typer.Typer(
    help="Prove that a system's observability works.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for commands in (stack.app, probe.app, load.app, gameday.app, mutate.app):
    app.registered_commands += commands.registered_commands
app.registered_commands += init.app.registered_commands
app.registered_commands += validate.app.registered_commands
app.add_typer(rum.app, name="rum", no_args_is_help=True)
app.add_typer(chaos.app, name="chaos", no_args_is_help=True)

__all__ = ["app"]
