"""Load profiles (the `load:` section of the config) and the plan one load run follows.

A profile names a shape (smoke, ramp, spike, soak), its parameters (users, spawn rate,
pace, duration, target region, user mix) and its pass conditions (thresholds, as in k6).
`plan_for` resolves a profile plus command-line overrides into a `LoadPlan`: everything
the Locust processes need, as one JSON document (secrets stay in the environment).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from signalcheck.errors import LoadError

if TYPE_CHECKING:
    from signalcheck.config import Config

Seconds = Annotated[float, Field(gt=0, description="seconds")]
ShapeName = Literal["smoke", "ramp", "spike", "soak"]
UserKind = Literal["workflow", "browse", "health", "rum"]
SHAPES: tuple[ShapeName, ...] = ("smoke", "ramp", "spike", "soak")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Model):
    """Pass conditions of a run: it fails when any declared one is broken."""

    error_rate: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None,
        description="the largest share of failed requests (0.01: 1%); null: not judged",
    )
    p95_ms: Annotated[float, Field(gt=0)] | None = Field(
        None,
        description="the largest 95th-percentile response time, in milliseconds; null: not judged",
    )

    def evaluate(self, error_rate: float, p95_ms: float | None) -> list[ThresholdResult]:
        """One result per declared threshold, in declaration order."""
        results = []
        if self.error_rate is not None:
            results.append(
                ThresholdResult(
                    name="error_rate",
                    limit=self.error_rate,
                    actual=error_rate,
                    passed=error_rate <= self.error_rate,
                )
            )
        if self.p95_ms is not None:
            results.append(
                ThresholdResult(
                    name="p95_ms",
                    limit=self.p95_ms,
                    actual=p95_ms,
                    passed=p95_ms is not None and p95_ms <= self.p95_ms,
                )
            )
        return results


class ThresholdResult(_Model):
    name: str
    limit: float
    actual: float | None
    passed: bool


class LoadProfile(_Model):
    """One named load profile: a shape, its parameters and its pass conditions."""

    shape: ShapeName = Field(
        description="how users start and stop: smoke (a few users, briefly), ramp (up to users, "
        "hold, down), spike (a sudden surge), soak (steady for long)",
    )
    users: int = Field(10, ge=1, le=10_000, description="peak concurrent users")
    spawn_rate: float = Field(5.0, gt=0, description="users started (or stopped) per second")
    pace: float | None = Field(
        1.0, gt=0, description="tasks per second per user; null: 1-3 s think time"
    )
    duration: Seconds = Field(60.0, description="seconds the run lasts (--duration overrides)")
    region: str | None = Field(
        None,
        description="the region loaded (--region overrides); default: the first configured region",
    )
    user_mix: dict[UserKind, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {"workflow": 3, "browse": 6, "health": 1},
        description="user kind → weight, at least one above 0: workflow (the demo's token, "
        "create, read, delete), browse (read-heavy), health (/health and /health/ready, as a load "
        "balancer), rum (RUM event batches to backends.rum_ingest)",
    )
    thresholds: Thresholds = Field(
        Thresholds(error_rate=0.01, p95_ms=500),
        description="pass conditions: the run fails when one is broken",
    )
    locustfile: Path | None = Field(
        None,
        description="your own locustfile (relative to the config file): its User classes run "
        "instead of the shipped ones (user_mix is then not used) and its LoadTestShape, if it "
        "has one, instead of `shape`",
    )

    @model_validator(mode="after")
    def _someone_runs(self) -> LoadProfile:
        if not any(self.user_mix.values()):
            raise ValueError("user_mix needs at least one user kind with a weight above 0")
        return self


def _default_profiles() -> dict[str, LoadProfile]:
    return {
        "smoke": LoadProfile(shape="smoke", users=2, duration=30),
        "ramp": LoadProfile(shape="ramp", users=20, duration=120),
        "spike": LoadProfile(shape="spike", users=40, spawn_rate=40, duration=120),
        "soak": LoadProfile(shape="soak", users=10, duration=3600),
    }


class LoadSettings(_Model):
    """The `load:` section: named profiles (added to the four defaults), how load users
    authenticate, how runs stop.

    RUM users post to `backends.rum_ingest` with the API key in `$<rum_api_key_env>`.
    """

    profiles: dict[str, LoadProfile] = Field(
        default_factory=_default_profiles,
        description="named profiles, added to (or replacing) the default smoke, ramp, spike and "
        "soak",
    )
    stop_timeout: Seconds = Field(
        10.0, description="seconds a stopping user may finish its task, so no request is cut"
    )
    client_id: str = Field(
        "signalcheck-load",
        description="the client id the shipped workflow users get the demo's tokens (/auth/token) "
        "with",
    )
    client_secret_env: str = Field(
        "DEMO_CLIENT_SECRET",
        description="the environment variable holding that client's secret",
    )
    rum_api_key_env: str = Field(
        "SIGNALCHECK_RUM_API_KEY",
        description="the environment variable holding the API key rum users post to "
        "backends.rum_ingest with",
    )

    @field_validator("profiles")
    @classmethod
    def _defaults_stay_available(cls, profiles: dict[str, LoadProfile]) -> dict[str, LoadProfile]:
        """Profiles in the file add to (or replace) smoke, ramp, spike and soak."""
        return {**_default_profiles(), **profiles}


class LoadPlan(_Model):
    """Everything one run's Locust processes need; travels as JSON on their command line."""

    profile: str
    shape: ShapeName
    region: str
    host: str
    users: int
    spawn_rate: float
    pace: float | None
    duration: float
    user_mix: dict[UserKind, int]
    thresholds: Thresholds
    stop_timeout: float
    client_id: str
    client_secret_env: str
    rum_url: str | None
    rum_api_key_env: str
    locustfile: Path | None = None
    """The user's own locustfile, run instead of the shipped users (user_mix not used)."""
    user_classes: tuple[str, ...] = ()
    """The User classes Locust finds in `locustfile` (read before the run)."""
    own_shape: str | None = None
    """The locustfile's LoadTestShape class, which then runs instead of `shape`."""
    ledger: Path | None = None
    result: Path | None = None

    def user_kinds(self) -> list[UserKind]:
        return [kind for kind, weight in self.user_mix.items() if weight > 0]


def plan_for(
    config: Config,
    profile_name: str,
    *,
    region: str | None = None,
    users: int | None = None,
    spawn_rate: float | None = None,
    duration: float | None = None,
    locustfile: Path | None = None,
) -> LoadPlan:
    """The plan of profile `profile_name` with the given overrides; LoadError when unusable.

    Refuses any target (region base URL, RUM ingest) whose host is not in the allowlist, and
    a locustfile (`locustfile`, else the profile's) that is not a file.
    """
    settings: LoadSettings = config.load
    profile = settings.profiles.get(profile_name)
    if profile is None:
        known = ", ".join(sorted(settings.profiles))
        raise LoadError(f"--profile: no load profile {profile_name!r} (known: {known})")
    source = "--region" if region else f"load.profiles.{profile_name}.region"
    region = region or profile.region or next(iter(config.regions))
    if region not in config.regions:
        raise LoadError(
            f"{source}: {region!r} is not a configured region ({', '.join(config.regions)})"
        )
    host = str(config.regions[region].base_url).rstrip("/")
    rum_ingest = config.backends.rum_ingest  # the local stack's unless configured
    own = locustfile or profile.locustfile
    if own is not None and not own.is_file():
        which = "--locustfile" if locustfile else f"load.profiles.{profile_name}.locustfile"
        raise LoadError(f"{which}: {own} is not a file")
    shipped_rum = own is None and profile.user_mix.get("rum")
    rum_url = rum_ingest.base_url if rum_ingest and shipped_rum else None
    for url in (host, rum_url):
        check_allowlisted(url, config.allowlist)
    if users is not None and users < 1:
        raise LoadError(f"--users: {users} is not a positive number of users")
    if spawn_rate is not None and spawn_rate <= 0:
        raise LoadError(f"--rate: {spawn_rate} is not a positive number of users per second")
    return LoadPlan(
        profile=profile_name,
        shape=profile.shape,
        region=region,
        host=host,
        users=users or profile.users,
        spawn_rate=spawn_rate or profile.spawn_rate,
        pace=profile.pace,
        duration=duration or profile.duration,
        user_mix=profile.user_mix,
        thresholds=profile.thresholds,
        stop_timeout=settings.stop_timeout,
        client_id=settings.client_id,
        client_secret_env=settings.client_secret_env,
        rum_url=rum_url,
        rum_api_key_env=settings.rum_api_key_env,
        locustfile=own.resolve() if own is not None else None,
    )


def check_allowlisted(url: str | None, allowlist: list[str]) -> None:
    """LoadError unless `url` is None or its host is in `allowlist`."""
    if url is None:
        return
    host = urlsplit(url).hostname or ""
    if host not in allowlist:
        raise LoadError(f"refusing to send load to {host!r}: not in allowlist {allowlist}")
