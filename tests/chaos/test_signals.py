"""A restore is not cut in half: SIGINT/SIGTERM wait until it is done (or are dropped when the
run is ending anyway)."""

from __future__ import annotations

import os
import signal

import pytest

from signalcheck.chaos.signals import deferred, ignored


@pytest.fixture(autouse=True)
def default_sigint():
    """Python's own SIGINT handler, as in a terminal (a runner started in the background,
    e.g. `nohup ... &`, inherits SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_during_a_deferred_block_arrives_after_it() -> None:
    finished = False
    with pytest.raises(KeyboardInterrupt), deferred():
        os.kill(os.getpid(), signal.SIGINT)
        finished = True
    assert finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_during_a_deferred_block_reaches_the_previous_handler() -> None:
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _: received.append(signum))
    try:
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            assert received == []
        assert received == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_ignored_drops_the_signal() -> None:
    with ignored():
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
