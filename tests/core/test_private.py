"""Secrets and stores are private from their first byte: created with mode 0600 by one
exclusive `os.open`, never written first and restricted after (a window where a token is
world-readable)."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from signalcheck.private import private_file, write_private

_watched: list[tuple[str, tuple]] = []
_watching: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if _watching and event in ("open", "os.chmod") and _watching[0] in str(args[0]):
        _watched.append((event, args))


sys.addaudithook(_audit)  # hooks cannot be removed: this one records only while watching


@pytest.fixture
def wide_umask():
    """umask 0: a file created world-readable would show it."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def _calls_on(path) -> list[tuple[str, tuple]]:
    return [(e, a) for e, a in _watched if str(a[0]) == str(path)]


def test_a_secret_is_created_0600_exclusively_and_never_chmod_ed(tmp_path, wide_umask):
    secret = tmp_path / "token"
    _watched.clear()
    _watching[:] = [str(tmp_path)]
    try:
        write_private(secret, "s3cret")
    finally:
        _watching.clear()
    assert secret.read_text() == "s3cret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    calls = _calls_on(secret)
    assert [e for e, _ in calls] == ["open"], calls
    flags = calls[0][1][2]
    assert flags & os.O_CREAT and flags & os.O_EXCL, calls
    with pytest.raises(FileExistsError):
        write_private(secret, "another")
    assert secret.read_text() == "s3cret"


def test_a_store_file_is_created_0600_and_an_existing_one_is_left_alone(tmp_path, wide_umask):
    store = tmp_path / "rum.db"
    private_file(store)
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    store.write_bytes(b"data")
    private_file(store)
    assert store.read_bytes() == b"data"
