"""`signalcheck up` refuses ports a process listens on, but not ports that only a stack
stopped a moment ago still has connections on (TIME_WAIT): `down` then `up` must work."""

from __future__ import annotations

import socket

import pytest

from signalcheck.config import load_config
from signalcheck.errors import StackError
from signalcheck.stack import LocalStack
from signalcheck.stack.launcher import Component
from tests.support import write_stack_config


def _stack(tmp_path) -> LocalStack:
    return LocalStack(load_config(write_stack_config(tmp_path), environ={}))


def _listener() -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_a_listening_port_is_refused_naming_the_component(tmp_path):
    stack = _stack(tmp_path)
    with _listener() as server:
        port = server.getsockname()[1]
        with pytest.raises(StackError, match=rf"capture: port {port} on 127.0.0.1 is already in"):
            stack._check_ports_free([Component("capture", ["x"], port, "/health")])


def test_a_port_left_in_time_wait_by_a_stopped_server_is_free(tmp_path):
    stack = _stack(tmp_path)
    server = _listener()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end of the port goes to TIME_WAIT
    server.close()
    client.recv(1)
    client.close()
    stack._check_ports_free([Component("capture", ["x"], port, "/health")])


def test_a_demo_regions_port_in_use_suggests_dropping_demo(tmp_path):
    stack = _stack(tmp_path)
    with _listener() as server:
        port = server.getsockname()[1]
        demo = Component("demo-eu-west-1", ["x"], port, "/health", region="eu-west-1")
        with pytest.raises(StackError) as raised:
            stack._check_ports_free([demo])
    message = str(raised.value)
    assert f"demo-eu-west-1: port {port} on 127.0.0.1 is already in use" in message
    assert "if your service runs there, drop `demo: true` from regions.eu-west-1" in message
