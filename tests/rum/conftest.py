"""Fixtures for the RUM ingest: settings, an in-process app, SQLite and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi.testclient import TestClient

from signalcheck.rum_ingest.app import create_app
from signalcheck.rum_ingest.keys import ApiKeys
from signalcheck.rum_ingest.settings import Settings
from signalcheck.waiting import wait_for
from tests.rum.postgres import temporary_postgres
from tests.support import REPO

API_KEY = "test-key-0123456789abcdef"
"""The ingest key (send only) of app `web`."""
OTHER_APP_KEY = "other-key-0123456789abcdef"
READ_KEY = "read-key-0123456789abcdef"
"""The read key (analytics only) of app `web`."""
OTHER_APP_READ_KEY = "other-read-key-0123456789abcdef"
KEYS = ApiKeys(
    [("web", API_KEY), ("other", OTHER_APP_KEY)],
    [("web", READ_KEY), ("other", OTHER_APP_READ_KEY)],
)
ORIGIN = "http://app.example:8080"
INGEST_START_TIMEOUT = 20.0


def event(kind: str, session: str = "s-1", url: str = "http://app.example/", **fields) -> dict:
    """A valid event of `kind` with the common fields filled in."""
    return {
        "type": kind,
        "session_id": session,
        "timestamp": int(time.time() * 1000),
        "page": {"url": url},
        **fields,
    }


def settings(database_url: str, **overrides) -> Settings:
    values = {
        "api_keys": KEYS,
        "database_url": database_url,
        "allowed_origins": (ORIGIN,),
        "rate_per_second": 1000.0,
        "rate_burst": 1000,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with temporary_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    """An empty database of each kind: a fresh SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rum.db'}"
    server = request.getfixturevalue("postgres_server")
    return asyncio.run(_fresh_postgres_database(server, f"rum_{time.time_ns()}"))


async def _fresh_postgres_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(server_url, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rum.db'}"


@pytest.fixture
def client(sqlite_url) -> Iterator[TestClient]:
    """The ingest in-process on a fresh SQLite store (lifespan run, so the schema exists)."""
    with TestClient(create_app(settings(sqlite_url)), base_url="http://rum.test") as test_client:
        yield test_client


def count_rows(database_url: str, where: str = "1=1") -> int:
    from signalcheck.rum_ingest.store import EventStore

    async def count() -> int:
        store = EventStore(database_url)
        await store.open()
        try:
            rows = await store.database.fetch(f"SELECT COUNT(*) FROM rum_events WHERE {where}", {})
            return int(rows[0][0])
        finally:
            await store.close()

    return asyncio.run(count())


def start_ingest(database_url: str, port: int, log_path: Path, **env: str) -> subprocess.Popen:
    """`signalcheck rum serve` on `port` as a process of its own (rate limit out of the way,
    `env` added), ready to take batches; its output goes to `log_path`."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RUM_API_KEYS": f"web={API_KEY}",
        "RUM_RATE_LIMIT": "100000",
        "RUM_RATE_BURST": "100000",
        **env,
    }
    argv = [sys.executable, "-m", "signalcheck", "rum", "serve", "--port", str(port)]
    with open(log_path, "wb") as log:
        ingest = subprocess.Popen(
            argv, env=environment, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for(
            lambda: _ready(f"http://127.0.0.1:{port}/health/ready", ingest),
            timeout=INGEST_START_TIMEOUT,
            what=f"the ingest on port {port} to be ready (log {log_path})",
        )
    except Exception:
        ingest.kill()
        ingest.wait(timeout=10)
        raise AssertionError(log_path.read_text()) from None
    return ingest


def _ready(url: str, ingest: subprocess.Popen) -> bool:
    if ingest.poll() is not None:
        raise RuntimeError(f"the ingest exited with {ingest.returncode}")
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
