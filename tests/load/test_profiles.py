"""The `load:` config section, plans, durations and thresholds."""

from __future__ import annotations

import pytest
import yaml

from signalcheck.config import load_config
from signalcheck.errors import ConfigError, LoadError
from signalcheck.load_profiles import Thresholds, plan_for
from tests.support import REPO

REGIONS = {
    "eu-west-1": {"base_url": "http://127.0.0.1:18002"},
    "us-east-1": {"base_url": "http://127.0.0.1:18001"},
}


def config_with(tmp_path, **sections):
    path = tmp_path / "signalcheck.yaml"
    path.write_text(yaml.safe_dump({"regions": REGIONS, **sections}))
    return load_config(path, environ={})


def test_every_shape_has_a_default_profile(tmp_path):
    profiles = config_with(tmp_path).load.profiles
    assert {profile.shape for profile in profiles.values()} == {"smoke", "ramp", "spike", "soak"}


def test_shipped_config_declares_the_four_shapes_and_a_rum_profile():
    profiles = load_config(REPO / "signalcheck.yaml", environ={}).load.profiles
    assert {"smoke", "ramp", "spike", "soak", "rum"} <= profiles.keys()
    assert profiles["rum"].user_mix == {"rum": 1}


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({"shape": "wave"}, "load.profiles.x.shape"),
        ({"shape": "ramp", "users": 0}, "load.profiles.x.users"),
        ({"shape": "ramp", "user_mix": {"browse": 0}}, "at least one user kind"),
        ({"shape": "ramp", "thresholds": {"error_rate": 2}}, "thresholds.error_rate"),
    ],
)
def test_bad_profiles_name_the_key(tmp_path, profile, expected):
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        config_with(tmp_path, load={"profiles": {"x": profile}})


def test_plan_takes_the_profile_and_the_overrides(tmp_path):
    config = config_with(tmp_path, load={"profiles": {"r": {"shape": "ramp", "users": 8}}})
    plan = plan_for(config, "r", region="us-east-1", users=3, spawn_rate=2, duration=20)
    assert (plan.shape, plan.region, plan.host) == ("ramp", "us-east-1", "http://127.0.0.1:18001")
    assert (plan.users, plan.spawn_rate, plan.duration) == (3, 2, 20)
    default = plan_for(config, "r")
    assert (default.region, default.users, default.rum_url) == ("eu-west-1", 8, None)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"profile_name": "nope"}, "no load profile 'nope'"),
        ({"profile_name": "smoke", "region": "mars-1"}, "'mars-1' is not a configured region"),
        ({"profile_name": "smoke", "users": 0}, "--users"),
    ],
)
def test_unusable_plans_are_refused(tmp_path, kwargs, expected):
    with pytest.raises(LoadError, match=expected):
        plan_for(config_with(tmp_path), **kwargs)


def test_rum_users_post_to_the_rum_ingest_only_when_it_is_allowlisted(tmp_path):
    load = {"profiles": {"rum": {"shape": "smoke", "user_mix": {"rum": 1}}}}
    local = config_with(tmp_path, load=load)
    assert plan_for(local, "rum").rum_url == "http://127.0.0.1:14319"
    remote = config_with(
        tmp_path, load=load, backends={"rum_ingest": {"url": "https://rum.example.com"}}
    )
    with pytest.raises(LoadError, match=r"refusing to send load to 'rum\.example\.com'"):
        plan_for(remote, "rum")


def test_thresholds_pass_at_the_limit_and_fail_above_it():
    thresholds = Thresholds(error_rate=0.01, p95_ms=500)
    assert all(r.passed for r in thresholds.evaluate(0.01, 500))
    broken = [r.name for r in thresholds.evaluate(0.02, 501) if not r.passed]
    assert broken == ["error_rate", "p95_ms"]
    assert not Thresholds(p95_ms=500).evaluate(0.0, None)[0].passed  # no requests: no p95
    assert Thresholds().evaluate(1.0, 10_000) == []
