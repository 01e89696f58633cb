"""Free ports are picked below the kernel's ephemeral range, where no outgoing connection
takes one as its source port between the pick and the component's bind; or within the
config's `stack.port_range`."""

from __future__ import annotations

import contextlib
import socket

import pytest

from signalcheck.config import PortRange
from signalcheck.errors import StackError
from signalcheck.stack import ports
from signalcheck.stack.ports import LOWEST, ephemeral_floor, free_port


def test_a_free_port_is_below_the_ephemeral_range_and_bindable():
    picked = {free_port() for _ in range(20)}
    assert all(LOWEST <= p < ephemeral_floor() for p in picked), picked
    assert len(picked) > 1, "picks are random, so that concurrent pickers rarely agree"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", picked.pop()))


def test_a_port_something_listens_on_is_not_picked(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(ports, "LOWEST", port)  # the only candidates: `port` and one more
        monkeypatch.setattr(ports, "PICKS", 2)
        monkeypatch.setattr(ports, "ephemeral_floor", lambda: port + 2)
        assert free_port() == port + 1


@pytest.mark.parametrize("content", ["", "not numbers"])
def test_an_unreadable_range_is_linux_default(tmp_path, monkeypatch, content):
    (tmp_path / "range").write_text(content)
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE", tmp_path / "range")
    assert ephemeral_floor() == 32768


def test_without_room_below_the_range_the_kernel_picks(tmp_path, monkeypatch):
    kernels = ephemeral_floor()
    (tmp_path / "range").write_text("10050 60999")
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE", tmp_path / "range")
    assert free_port() >= kernels


def test_with_a_range_every_pick_is_in_it_and_not_taken():
    port_range = PortRange(first=LOWEST + 100, last=LOWEST + 131)
    picked = {free_port(port_range, taken=[LOWEST + 100]) for _ in range(20)}
    assert all(LOWEST + 101 <= p <= LOWEST + 131 for p in picked), picked
    assert len(picked) > 1


def test_a_range_with_every_port_in_use_is_an_error_naming_it():
    listeners = []
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        port_range = PortRange(first=first, last=first + 16)
        for port in range(first, first + 17):
            sock = socket.socket()
            listeners.append(sock)
            with contextlib.suppress(OSError):  # in use already: as good
                sock.bind(("127.0.0.1", port))
                sock.listen()
        with pytest.raises(StackError, match=rf"stack.port_range {first}..{first + 16}: no free"):
            free_port(port_range)
    finally:
        for sock in listeners:
            sock.close()
