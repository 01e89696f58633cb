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
        Path | None, typer.Option(help="File of ingest keys (send only), one app=key per line.")
    ] = None,
    read_keys_file: Annotated[
        Path | None, typer.Option(help="File of read keys (analytics), one app=key per line.")
    ] = None,
) -> None:
    """Run the RUM ingest: POST /v1/events, Faro /collect, /v1/sdk.js, analytics, /metrics.

    The store is DATABASE_URL (default sqlite:///rum.db; postgresql://... for PostgreSQL);
    Ingest keys (public, send only) come from RUM_API_KEYS (app=key,...) or a keys file, read
    keys (secret, analytics only) from RUM_READ_KEYS or a read keys file; never from the
    command line. Every setting: rum_ingest/README.md.
    """
    import os

    from signalcheck.rum_ingest.server import serve
    from signalcheck.rum_ingest.settings import Settings

    settings = Settings.from_env(os.environ, keys_file=keys_file, read_keys_file=read_keys_file)
    serve(settings, host=host, port=port)
