"""signalcheck: prove that a system's observability works.

The package itself holds only what a user's code reaches for first: the errors to catch
(signalcheck/errors.py draws their tree) and the Chaos Toolkit discovery
(`chaos discover signalcheck`); everything else is imported from its room.
"""

from signalcheck.errors import (
    AlertAlreadyFiring,
    AlertMisrouted,
    BackendError,
    BackendUnavailable,
    BaselineUnhealthy,
    ConfigError,
    DemoAdminError,
    GamedayError,
    GamedayInterrupted,
    LedgerError,
    LoadError,
    LoadRunError,
    LokiTruncated,
    MarkError,
    MatcherError,
    MutationError,
    PartialAnswerError,
    PrometheusResultError,
    PushError,
    SignalcheckError,
    StackError,
    TargetRefused,
    UnknownTimers,
    WaitTimeout,
)
from signalcheck.extension import discover, load_exported_activities

__all__ = [
    "AlertAlreadyFiring",
    "AlertMisrouted",
    "BackendError",
    "BackendUnavailable",
    "BaselineUnhealthy",
    "ConfigError",
    "DemoAdminError",
    "GamedayError",
    "GamedayInterrupted",
    "LedgerError",
    "LoadError",
    "LoadRunError",
    "LokiTruncated",
    "MarkError",
    "MatcherError",
    "MutationError",
    "PartialAnswerError",
    "PrometheusResultError",
    "PushError",
    "SignalcheckError",
    "StackError",
    "TargetRefused",
    "UnknownTimers",
    "WaitTimeout",
    "discover",
    "load_exported_activities",
]
__version__ = "0.1.0"
