"""Free loopback ports for components started later: within the config's `stack.port_range`
when it sets one, else picked below the kernel's ephemeral range: a port from that range (what
binding port 0 hands out) can become the source port of any outgoing connection between the
pick and the component's bind."""

from __future__ import annotations

import random
import socket
from collections.abc import Collection
from pathlib import Path

from signalcheck.config import PortRange
from signalcheck.errors import StackError

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10000
"""The lowest port picked (well-known and common service ports stay clear)."""
PICKS = 200


def ephemeral_floor() -> int:
    """The first port of the kernel's ephemeral range (Linux' default when unreadable)."""
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(port_range: PortRange | None = None, taken: Collection[int] = ()) -> int:
    """A port on 127.0.0.1 that nothing listens on right now and not in `taken` (picked
    earlier, not bound yet), chosen at random (so that concurrent pickers rarely agree).

    With `port_range`, within it, or a StackError when every port there is in use. Without,
    below the ephemeral range; from the ephemeral range only when that leaves no room or no
    free port."""
    if port_range is not None:
        candidates = range(port_range.first, port_range.last + 1)
        for port in random.sample(candidates, len(candidates)):
            if port not in taken and _bindable(port):
                return port
        raise StackError(
            f"stack.port_range {port_range.first}..{port_range.last}: no free port left on "
            "127.0.0.1; widen the range or stop what listens there"
        )
    floor = ephemeral_floor()
    if floor - LOWEST >= PICKS:
        for port in random.sample(range(LOWEST, floor), PICKS):
            if port not in taken and _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
