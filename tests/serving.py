"""Serve an ASGI app (lifespan included) with uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from signalcheck.waiting import wait_for

START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0


@contextmanager
def served(app: ASGIApp, what: str) -> Iterator[str]:
    """`app` on http://127.0.0.1:PORT until the block ends; yields that URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: server.started or not thread.is_alive(),
            timeout=START_TIMEOUT,
            what=f"{what} to listen on port {port}",
        )
        if not server.started:
            raise RuntimeError(f"{what} stopped before it listened on port {port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT)
        sock.close()
