"""Process settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")


class SettingsError(ValueError):
    """An unusable environment variable; the message names it and the expected form."""


@dataclass(frozen=True)
class Settings:
    region: str
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str | None = None
    client_secret: str = "demo-secret"
    rum_sdk_url: str | None = None
    rum_api_key: str | None = None
    otlp_endpoint: str | None = None
    service_version: str = "0.1.0"
    service_revision: str = "unknown"
    db_path: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from environment variables; empty values count as unset."""

        def get(name: str) -> str | None:
            return env.get(name, "").strip() or None

        region = get("REGION")
        if region not in REGIONS:
            found = f"got {region!r}" if region else "it is not set"
            raise SettingsError(f"REGION must be one of {', '.join(REGIONS)}; {found}")
        port_text = get("PORT") or str(cls.port)
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise SettingsError(f"PORT must be an integer from 1 to 65535, got {port_text!r}")
        return cls(
            region=region,
            host=get("HOST") or cls.host,
            port=int(port_text),
            admin_token=get("DEMO_ADMIN_TOKEN"),
            client_secret=get("DEMO_CLIENT_SECRET") or cls.client_secret,
            rum_sdk_url=get("DEMO_RUM_SDK_URL"),
            rum_api_key=get("DEMO_RUM_API_KEY"),
            otlp_endpoint=get("OTEL_EXPORTER_OTLP_ENDPOINT"),
            service_version=get("SERVICE_VERSION") or cls.service_version,
            service_revision=get("SERVICE_REVISION") or cls.service_revision,
            db_path=get("DEMO_DB_PATH"),
        )
