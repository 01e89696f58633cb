"""Files only their owner may read (secrets, stores): mode 0600 from their first byte, never
written first and restricted after."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private(path: Path, text: str) -> None:
    """Create `path` with mode 0600 and write `text` to it; FileExistsError if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists: before a database opens it (SQLite
    gives its -wal and -shm files the database file's mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
