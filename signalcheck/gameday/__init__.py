"""`signalcheck gameday`: baseline, load and chaos in one timed exercise, validated and reported.

The game day only orchestrates: the actors (probes, load, chaos) are handed to it by the CLI,
so this package, like the rest of `signalcheck/`, imports none of the feature folders.
"""

from signalcheck.gameday.plan import PROFILES, GamedayPlan
from signalcheck.gameday.runner import Actors, Gameday

__all__ = ["PROFILES", "Actors", "Gameday", "GamedayPlan"]
