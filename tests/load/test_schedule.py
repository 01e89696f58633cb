"""The user curves of the four shapes."""

from __future__ import annotations

from signalcheck.loadtests.schedule import USERS_AT


def curve(shape: str, users: int = 20, duration: float = 30) -> list[int]:
    return [USERS_AT[shape](t, users, duration) for t in range(int(duration))]


def test_smoke_and_soak_hold_the_users():
    assert set(curve("smoke")) == {20}
    assert set(curve("soak")) == {20}


def test_ramp_climbs_from_one_to_the_peak_then_holds():
    ramp = curve("ramp")
    assert ramp[0] == 1
    assert ramp == sorted(ramp)
    assert ramp.index(20) == 20  # two thirds of 30 s
    assert set(ramp[20:]) == {20}


def test_spike_jumps_from_a_baseline_and_back():
    spike = curve("spike")
    assert spike[:12] == [4] * 12
    assert spike[12:18] == [20] * 6
    assert spike[18:] == [4] * 12
    assert min(curve("spike", users=3)) == 1
