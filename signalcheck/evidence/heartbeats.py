"""Heartbeat expectation: an always-firing alert (a Watchdog) kept reaching its receiver
through the whole run, so the alerting pipeline (rules evaluated, alerts sent, routed,
delivered) worked even while nothing else fired. Judged on the capture receiver's record."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.evidence.routing import alertmanager_timers
from signalcheck.expectations import HeartbeatExpectation

MAX_LISTED = 3

Silence = tuple[float, float]
"""(from, to): a stretch of the window with no heartbeat, longer than allowed."""


@dataclass(frozen=True)
class Tolerance:
    """The longest silence allowed, and how it was reached (shown in every verdict)."""

    seconds: float
    origin: str

    def __str__(self) -> str:
        return f"the longest silence allowed is {self.seconds:g}s: {self.origin}"


def longest_silence(exp: HeartbeatExpectation, ctx: Context) -> Tolerance:
    """The expectation's budget, else two re-notify intervals of the Alertmanager config in
    use plus the notification grace (one lost heartbeat is not yet an outage); when that
    config cannot be read, `UnknownTimers` (the check cannot be judged without a budget)."""
    if exp.budget is not None:
        return Tolerance(exp.budget, "the expectation's `budget`")
    timers = alertmanager_timers(ctx)
    return Tolerance(
        2 * timers.renotify + timers.grace,
        f"2 x {timers.renotify:g}s to re-notify (repeat_interval + group_interval) + "
        f"{timers.grace:g}s notification grace, from {timers.source}; set `budget` on the "
        "expectation to change it",
    )


def silences(beats: list[float], start: float, end: float, allowed: float) -> list[Silence]:
    """The gaps longer than `allowed` between heartbeats that leave part of [start, end] more
    than `allowed` after the last one: before the first (when none came before the run),
    between two, after the last (`beats` sorted, the last one before start first)."""
    if not beats:
        return [(start, end)]
    found = [(start, beats[0])] if beats[0] - start > allowed else []
    found += [(a, b) for a, b in pairwise(beats) if b - a > allowed and a + allowed < end]
    if end - beats[-1] > allowed:
        found.append((beats[-1], end))
    return found


def check_heartbeat(exp: HeartbeatExpectation, ctx: Context) -> Outcome:
    start, end = ctx.window()
    tolerance = longest_silence(exp, ctx)
    allowed = tolerance.seconds
    capture = ctx.backends.capture()

    def observe() -> Look:
        notes = capture.notifications(alertname=exp.alert, status="firing", since=start - allowed)
        notes = [n for n in notes if n["received_at"] <= end + allowed]
        beats = sorted(n["received_at"] for n in notes if n["receiver"] == exp.receiver)
        # the run's own heartbeats, and the last one before it (a gap spans the run's start)
        judged = [b for b in beats if b < start][-1:] + [b for b in beats if b >= start]
        ours = any(b >= start for b in judged)
        gaps = silences(judged, start, end, allowed)
        return Look(
            done=ours and not gaps,
            observed=judged,
            details={
                "ours": ours,
                "silences": gaps,
                "elsewhere": sorted({n["receiver"] for n in notes} - {exp.receiver}),
            },
        )

    polled = poll(observe, ctx.wait_for_due(allowed), max_interval=2.0)
    beats: list[float] = polled.look.observed
    gaps: list[Silence] = polled.look.details["silences"]
    elsewhere: list[str] = polled.look.details["elsewhere"]
    where = f"{exp.alert} -> {exp.receiver!r}"
    problems = [
        f"no notification of {where} for {b - a:.1f}s (from {a:.0f} to {b:.0f})"
        for a, b in gaps[:MAX_LISTED]
    ]
    if not polled.look.details["ours"]:
        last = f"the last at {beats[-1]:.0f}" if beats else f"none since {start - allowed:.0f}"
        problems = [
            f"no notification of {where} from the run's start ({start:.0f}) until "
            f"{end + allowed:.0f} ({last})"
        ]
    if problems and elsewhere:
        problems.append(f"{exp.alert} reached {elsewhere} instead: check the route it takes")
    longest = max((b - a for a, b in pairwise(beats)), default=0.0)
    summary = (
        f"{'; '.join(problems)} ({tolerance})"
        if problems
        else f"{where}: {len(beats)} notification(s), at most {longest:.1f}s apart ({tolerance})"
    )
    return Outcome(
        passed=not problems,
        summary=summary,
        query=capture.last_request,
        observed=str([round(b, 1) for b in beats[-10:]]),
        waited=polled.waited,
    )
