"""The errors signalcheck raises on purpose, for a user's script to catch: `except
SignalcheckError` takes them all. Each message says what went wrong in one line.

The tree (an error that is also a standard kind keeps that base too, so code that catches the
standard kind goes on working):

* SignalcheckError
  * ConfigError - a config file that cannot be used
    * GamedayError - a game day that cannot start
    * MarkError - an experiment activity's `signalcheck` mark not understood
  * LedgerError - a run ledger that cannot be read
  * BackendError - a backend call that failed
    * BackendUnavailable - a backend not configured, or not answering its health check
    * PrometheusResultError - a query answer that cannot be read as numbers
    * PartialAnswerError - an answer Prometheus marked as possibly incomplete
    * LokiTruncated - a log query answer still cut at its limit
    * UnknownTimers - Alertmanager's timers that cannot be read
    * PushError - probe results the Pushgateway did not take
  * StackError - the local stack cannot start or stop
  * WaitTimeout (also TimeoutError) - a wait that hit its deadline
  * LoadError (also ValueError) - a load run that must not start
  * LoadRunError (also RuntimeError) - a load run Locust did not finish
  * MutationError (also ValueError) - a mutant whose target is not in the config
  * MatcherError (also ValueError) - an Alertmanager matcher that cannot be read
  * BaselineUnhealthy - a real pipeline failing its own expectations
  * GamedayInterrupted - a game day the user stopped
  * TargetRefused - a chaos target outside the config's regions or allowlist
  * DemoAdminError - a change the demo's admin API did not make
  * AlertAlreadyFiring - an alert firing before the fault it should detect
  * AlertMisrouted - an alert that also fired elsewhere or reached another receiver

These errors never leave their room, and stay there, under SignalcheckError too:
ProbeFailure (probes/errors.py: a check's failed attempt, which becomes its result),
CaptureInputError and its kin (signalcheck/capture/: bad input, answered with a 4xx),
ExpressionError (signalcheck/scaffold/: a rule the PromQL parser does not accept), and
StoreBusy, StoreClosed and WriterFailed (rum_ingest/store/: answered with a 503).
"""


class SignalcheckError(Exception):
    """An error signalcheck raised on purpose; its message says what went wrong in one line."""


class ConfigError(SignalcheckError):
    """A config file that cannot be used; the message names file, key and expected form."""


class GamedayError(ConfigError):
    """The game day cannot start: nothing was done."""


class MarkError(ConfigError):
    """An activity's `signalcheck` mark is not one signalcheck understands."""


class LedgerError(SignalcheckError):
    """A ledger that cannot be read; the message names the file and the line."""


class BackendError(SignalcheckError):
    """A backend call that failed; the message names the backend, the URL and what came back,
    in one line (the causes folded in, never chained)."""


class BackendUnavailable(BackendError):
    """A backend that is not configured or did not answer its health check."""


class PrometheusResultError(BackendError):
    """A query answer of a type or sample kind the caller cannot read as numbers."""


class PartialAnswerError(BackendError):
    """An answer Prometheus marked with `warnings`: it may be incomplete."""


class LokiTruncated(BackendError):
    """A log query whose answer was still cut at `limit` when paging had to stop."""


class UnknownTimers(BackendError):
    """Alertmanager's timers could be read neither from the Alertmanager in use nor from the
    local stack's rendered config: a check that needs them cannot be judged."""


class PushError(BackendError):
    """The results could not be pushed; the message names the gateway and what came back."""


class StackError(SignalcheckError):
    """The local stack cannot start or stop; the message names the component and what to do."""


class WaitTimeout(SignalcheckError, TimeoutError):
    """A wait that hit its deadline; the message says what it waited for and what it last saw."""


class LoadError(SignalcheckError, ValueError):
    """A load run that must not start; the message says why in one line."""


class LoadRunError(SignalcheckError, RuntimeError):
    """Locust did not finish the run; the message names the log to read."""


class MutationError(SignalcheckError, ValueError):
    """The mutant's target is not in the config text (the config changed under it)."""


class MatcherError(SignalcheckError, ValueError):
    """A matcher that is not `name op "value"`."""


class BaselineUnhealthy(SignalcheckError):
    """The real pipeline failed its own expectations (or an actor failed): no coverage can be
    measured against it."""


class GamedayInterrupted(SignalcheckError):
    """The user stopped the game day; every fault was restored."""


class TargetRefused(SignalcheckError):
    """A chaos target outside the config's regions or allowlist; nothing was done."""


class DemoAdminError(SignalcheckError):
    """The demo admin API could not be reached or refused the change."""


class AlertAlreadyFiring(SignalcheckError):
    """The alert was firing before the fault started: it cannot be the fault's detection."""


class AlertMisrouted(SignalcheckError):
    """The alert fired, but also for another region or at another receiver."""
