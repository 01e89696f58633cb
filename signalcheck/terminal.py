"""Colour on a terminal only: never in a redirected output, never with `NO_COLOR` set."""

from __future__ import annotations

import os
import re
import sys
import threading
from typing import IO, TextIO

_ESCAPE = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")
"""An ANSI control sequence (colours, styles, cursor moves)."""


def colour_allowed(stream: TextIO) -> bool:
    """True when `stream` is a terminal and `NO_COLOR` (https://no-color.org) is unset."""
    return not os.environ.get("NO_COLOR") and stream.isatty()


def relay_plain(source: IO[bytes], target: TextIO | None = None) -> threading.Thread:
    """Copy `source` (a child's output) line by line to `target` (default: sys.stderr at each
    line) without ANSI control sequences, in a daemon thread that ends with `source`."""

    def copy() -> None:
        with source:
            for line in source:
                out = target or sys.stderr
                out.write(_ESCAPE.sub(b"", line).decode("utf-8", "replace"))
                out.flush()

    thread = threading.Thread(target=copy, name="relay-plain", daemon=True)
    thread.start()
    return thread
