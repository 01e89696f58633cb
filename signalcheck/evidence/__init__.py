"""The evidence engine: turn expectations plus a run ledger into verifications, each of which polls
the backends under its budget and returns an `Outcome` (passed or not, what it asked, what it
saw, how long it waited). `pytest validation/` and the game day both run these verifications."""

from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.verifications import Verification, verifications_for

__all__ = ["Context", "Outcome", "Verification", "verifications_for"]
