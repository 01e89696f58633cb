"""`signalcheck rum serve`: the RUM ingest service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from signalcheck.cli.common import user_errors

app = typer.Typer(help="Real User Monitoring: the ingest service and its browser SDK.")


@app.command("serve")
@user_errors
def rum_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    keys_file: Annotated[
        Path | None, typer.Option(help="File of API keys, one app=key per line.")
    ] = None,
) -> None:
    """Run the RUM ingest: POST /v1/events, Faro /collect, /v1/sdk.js, analytics, /metrics.

    The store is DATABASE_URL (default sqlite:///rum.db; postgresql://... for PostgreSQL);
    API keys come from RUM_API_KEYS (app=key,...) or a keys file, never from the command line.
    """
    import os

    from rum_ingest.server import serve
    from rum_ingest.settings import Settings

    serve(Settings.from_env(os.environ, keys_file=keys_file), host=host, port=port)
