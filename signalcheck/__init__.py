"""signalcheck: prove that a system's observability works."""

from signalcheck.errors import SignalcheckError

__all__ = ["SignalcheckError"]
__version__ = "0.1.0"
