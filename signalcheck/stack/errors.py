from signalcheck.errors import SignalcheckError


class StackError(SignalcheckError):
    """The local stack cannot start or stop; the message names the component and what to do."""
