"""One client per observability backend, all built on `BackendClient`."""

from signalcheck.backends.base import BackendClient

__all__ = ["BackendClient"]
