"""The local stack: real Prometheus, Alertmanager, Pushgateway, the capture receiver
and the demo regions, started on loopback with short intervals."""

from signalcheck.stack.launcher import LocalStack

__all__ = ["LocalStack"]
