"""One client per observability backend, all built on `BackendClient`."""

from signalcheck.backends.base import BackendClient, BackendError

__all__ = ["BackendClient", "BackendError"]
