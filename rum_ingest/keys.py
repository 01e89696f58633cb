"""API keys, each naming its app and its role: an ingest key only sends the app's events (it is
public: a page embeds it), a read key only reads the app's analytics and sessions (a secret).

Ingest keys come from `RUM_API_KEYS` / `RUM_API_KEYS_FILE`, read keys from `RUM_READ_KEYS` /
`RUM_READ_KEYS_FILE` (`app=key,app=key`, or a file with one `app=key` per line); only their
SHA-256 digests are kept, and a key is looked up by digest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from enum import StrEnum

_APP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
KEY_FORM = "app=key, app a name of letters, digits, '.', '_' or '-', key 16 to 128 of [A-Za-z0-9_-]"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_pairs(text: str, source: str, separator: str) -> list[tuple[str, str]]:
    """`app=key` items split by `separator`; blank items and `#` comments are skipped."""
    pairs = []
    for number, item in enumerate(text.split(separator), start=1):
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        app, _, key = item.partition("=")
        if not (_APP.match(app.strip()) and _KEY.match(key.strip())):
            where = f"{source} line {number}" if separator == "\n" else f"{source} item {number}"
            raise ValueError(f"{where}: expected {KEY_FORM}")
        pairs.append((app.strip(), key.strip()))
    return pairs


class Role(StrEnum):
    INGEST = "ingest"
    READ = "read"


class ApiKeys:
    def __init__(
        self, ingest: Iterable[tuple[str, str]], read: Iterable[tuple[str, str]] = ()
    ) -> None:
        """A ValueError when one key is given both roles."""
        self._keys = {_digest(key): (app, Role.INGEST) for app, key in ingest}
        for app, key in read:
            if self._keys.get(_digest(key), (app, Role.READ))[1] is Role.INGEST:
                raise ValueError(f"a key of app {app} is both an ingest and a read key")
            self._keys[_digest(key)] = (app, Role.READ)

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, key: str | None) -> tuple[str, Role] | None:
        """The app a key belongs to and its role, or None for a missing or unknown key."""
        if not key or len(key) > 128:
            return None
        return self._keys.get(_digest(key))
