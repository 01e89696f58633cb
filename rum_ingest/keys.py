"""API keys, each naming the app whose events it may send.

Keys come from `RUM_API_KEYS` (`app=key,app=key`) or a file with one `app=key` per line; only
their SHA-256 digests are kept, and a key is looked up by digest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

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


class ApiKeys:
    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self._apps = {_digest(key): app for app, key in pairs}

    def __len__(self) -> int:
        return len(self._apps)

    def app_for(self, key: str | None) -> str | None:
        """The app a key belongs to, or None for a missing or unknown key."""
        if not key or len(key) > 128:
            return None
        return self._apps.get(_digest(key))
