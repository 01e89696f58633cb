"""Alertmanager API v2."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from signalcheck.backends.base import BackendClient


class AlertStatus(TypedDict):
    state: Literal["unprocessed", "active", "suppressed"]
    silencedBy: list[str]
    inhibitedBy: list[str]
    mutedBy: NotRequired[list[str]]
    """Ids of the time intervals muting it (Alertmanager 0.27+)."""


class Receiver(TypedDict):
    name: str


class Alert(TypedDict):
    """One alert of `/api/v2/alerts` (the API's `gettableAlert`); times in RFC 3339."""

    labels: dict[str, str]
    annotations: dict[str, str]
    startsAt: str
    endsAt: str
    updatedAt: str
    generatorURL: NotRequired[str]
    fingerprint: str
    receivers: list[Receiver]
    status: AlertStatus


class Matcher(TypedDict):
    name: str
    value: str
    isRegex: bool
    isEqual: NotRequired[bool]


class SilenceStatus(TypedDict):
    state: Literal["expired", "active", "pending"]


class Silence(TypedDict):
    """One silence of `/api/v2/silences` (`gettableSilence`)."""

    id: str
    status: SilenceStatus
    updatedAt: str
    matchers: list[Matcher]
    startsAt: str
    endsAt: str
    createdBy: str
    comment: str


class Peer(TypedDict):
    name: str
    address: str


class ClusterStatus(TypedDict):
    name: NotRequired[str]
    status: Literal["ready", "settling", "disabled"]
    peers: NotRequired[list[Peer]]


class VersionInfo(TypedDict):
    version: str
    revision: str
    branch: str
    buildUser: str
    buildDate: str
    goVersion: str


class LoadedConfig(TypedDict):
    original: str
    """The YAML of the configuration in use."""


class Status(TypedDict):
    """`/api/v2/status` (`alertmanagerStatus`)."""

    cluster: ClusterStatus
    versionInfo: VersionInfo
    config: LoadedConfig
    uptime: str


class AlertmanagerClient(BackendClient):
    name = "alertmanager"
    health_path = "/api/v2/status"

    def alerts(
        self,
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        matchers: list[str] | None = None,
    ) -> list[Alert]:
        """Alerts with `labels`, `startsAt` and `status.state` (active|suppressed), and
        `status.inhibitedBy` / `status.silencedBy`; `matchers` like 'region="eu-west-1"'."""
        alerts: list[Alert] = self.get_json(
            "/api/v2/alerts",
            active=str(active).lower(),
            silenced=str(silenced).lower(),
            inhibited=str(inhibited).lower(),
            filter=matchers,
        )
        return alerts

    def silences(self) -> list[Silence]:
        silences: list[Silence] = self.get_json("/api/v2/silences")
        return silences

    def status(self) -> Status:
        """Cluster, version and the loaded configuration (`config.original`)."""
        status: Status = self.get_json("/api/v2/status")
        return status
