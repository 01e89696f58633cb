"""signalcheck: prove that a system's observability works."""

__version__ = "0.1.0"
