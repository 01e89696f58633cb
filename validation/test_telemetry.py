"""The telemetry of the run arrived, correct and in time: one test per expectation (the
shipped suite of the signalcheck pytest plugin)."""

from signalcheck.pytest_plugin.suite import test_signal

__all__ = ["test_signal"]
