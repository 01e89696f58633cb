"""Free loopback ports for components started later, picked below the kernel's ephemeral
range: a port from that range (what binding port 0 hands out) can become the source port of
any outgoing connection between the pick and the component's bind."""

from __future__ import annotations

import random
import socket
from pathlib import Path

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


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now, chosen at random below the
    ephemeral range (so that concurrent pickers rarely agree); from the ephemeral range only
    when that leaves no room or no free port."""
    floor = ephemeral_floor()
    if floor - LOWEST >= PICKS:
        for port in random.sample(range(LOWEST, floor), PICKS):
            if _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
