"""Keep SIGINT and SIGTERM from cutting a restore in half, and tell background activities
that the run is stopping.

A restart interrupted between starting the process and recording it leaves a region that
nobody can stop; a restore interrupted half-way leaves a fault nobody knows about. Both
helpers act in the main thread only (where Python runs signal handlers) and do nothing
elsewhere. A background activity gets no signal (chaoslib waits for it even on an
interrupt): it ends at its next step once `stopping` is set.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

stopping = threading.Event()
"""Set when SIGINT or SIGTERM asked the run to stop (by the control's handlers)."""


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block is done, then deliver them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _: caught.append(signum))
                for sig in STOP_SIGNALS}  # fmt: skip
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(caught):
            os.kill(os.getpid(), sig)


@contextmanager
def ignored() -> Iterator[None]:
    """Drop SIGINT and SIGTERM while the block runs (the run is ending anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
