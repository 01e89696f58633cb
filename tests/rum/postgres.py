"""A throwaway PostgreSQL server on loopback, started from the OS packages' binaries."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import free_port

START_TIMEOUT = 30


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; "
            "install them with: apt-get install -y postgresql"
        )
    return Path(found[-1])


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Start a fresh cluster; yield its URL; stop it (by PID) and delete it afterwards.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
    """
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="signalcheck-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()

    def run(*argv: str) -> None:
        subprocess.run([*as_owner, *argv], check=True, capture_output=True, timeout=START_TIMEOUT)

    pid = None
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
            "--locale=C", "-E", "UTF8", "--no-sync")  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
            "-w", "-t", str(START_TIMEOUT), "start")  # fmt: skip
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if pid is not None:
            _stop(pid)
        shutil.rmtree(root, ignore_errors=True)


def _stop(pid: int) -> None:
    """Fast shutdown (SIGINT), then SIGKILL if it has not exited within 10 s."""
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
