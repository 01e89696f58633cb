"""The ingest's settings, read once from the environment (secrets never from the command line)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from signalcheck.errors import ConfigError
from signalcheck.rum_ingest.keys import ApiKeys, parse_pairs
from signalcheck.rum_ingest.store import DEFAULT_MAX_PENDING_ROWS, check_database_url

DEFAULT_DATABASE_URL = "sqlite:///rum.db"


@dataclass(frozen=True)
class Settings:
    api_keys: ApiKeys
    """Ingest keys (send only) and read keys (analytics and sessions only)."""
    database_url: str = DEFAULT_DATABASE_URL
    allowed_origins: tuple[str, ...] = ()
    rate_per_second: float = 20.0
    rate_burst: int = 40
    label_cap: int = 50
    route_templates: tuple[str, ...] = ()
    workers: int = 1
    """Server processes sharing the port."""
    max_pending_rows: int = DEFAULT_MAX_PENDING_ROWS
    """Rows received but not yet committed, at most; past it a batch is answered 503."""

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        keys_file: Path | None = None,
        read_keys_file: Path | None = None,
    ) -> Settings:
        """Settings from the environment; `keys_file` overrides `RUM_API_KEYS_FILE` and
        `read_keys_file` `RUM_READ_KEYS_FILE`.

        Variables (rum_ingest/README.md): DATABASE_URL, RUM_API_KEYS (ingest keys,
        app=key,...), RUM_API_KEYS_FILE, RUM_READ_KEYS (read keys, app=key,...),
        RUM_READ_KEYS_FILE, RUM_ALLOWED_ORIGINS (comma separated), RUM_RATE_LIMIT (batches/s
        per key), RUM_RATE_BURST, RUM_LABEL_CAP, RUM_ROUTE_TEMPLATES (comma separated, e.g.
        /users/{id}).
        """

        def get(name: str) -> str:
            return env.get(name, "").strip()

        def number(name: str, default: float, kind: type, low: float) -> float:
            text = get(name)
            try:
                value = kind(text) if text else default
            except ValueError:
                value = None
            if value is None or value < low:
                raise ConfigError(f"{name} must be a {kind.__name__} >= {low:g}, got {text!r}")
            return value

        def pairs(variable: str, given: Path | None) -> list[tuple[str, str]]:
            found = parse_pairs(get(variable), variable, ",")
            path = given or (Path(get(f"{variable}_FILE")) if get(f"{variable}_FILE") else None)
            return found + (parse_pairs(_read(path), str(path), "\n") if path else [])

        database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
        try:
            check_database_url(database_url)
            ingest = pairs("RUM_API_KEYS", keys_file)
            api_keys = ApiKeys(ingest, pairs("RUM_READ_KEYS", read_keys_file))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if not ingest:
            raise ConfigError(
                "no API keys: set RUM_API_KEYS=app=key[,app=key] or RUM_API_KEYS_FILE=PATH "
                "(one app=key per line)"
            )
        templates = tuple(t.strip() for t in get("RUM_ROUTE_TEMPLATES").split(",") if t.strip())
        if any(not t.startswith("/") for t in templates):
            raise ConfigError("RUM_ROUTE_TEMPLATES must be paths like /users/{id}/orders")
        return cls(
            api_keys=api_keys,
            database_url=database_url,
            allowed_origins=tuple(
                o.strip() for o in get("RUM_ALLOWED_ORIGINS").split(",") if o.strip()
            ),
            rate_per_second=number("RUM_RATE_LIMIT", cls.rate_per_second, float, 0.001),
            rate_burst=int(number("RUM_RATE_BURST", cls.rate_burst, int, 1)),
            label_cap=int(number("RUM_LABEL_CAP", cls.label_cap, int, 2)),
            route_templates=templates,
            workers=int(number("RUM_WORKERS", cls.workers, int, 1)),
            max_pending_rows=int(number("RUM_MAX_PENDING_ROWS", cls.max_pending_rows, int, 1)),
        )


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read API keys file ({exc.strerror})") from exc
