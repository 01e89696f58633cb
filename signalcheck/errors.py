"""The root of the errors signalcheck raises on purpose: `except SignalcheckError` takes them all.

Each room names its own below it (ConfigError, LedgerError, BackendError and its kin, StackError,
...); an error that is also a standard kind keeps that base too (WaitTimeout is a TimeoutError,
MutationError a ValueError), so code that catches the standard kind goes on working.
"""


class SignalcheckError(Exception):
    """An error signalcheck raised on purpose; its message says what went wrong in one line."""
