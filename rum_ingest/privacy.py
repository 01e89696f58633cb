"""Scrub personal data and secrets before anything is stored or used as a label.

URLs lose their query string, fragment and user info; emails and tokens in paths and in
free text (error messages, stacks) are replaced by placeholders.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

EMAIL = "[email]"
TOKEN = "[token]"
REDACTED = "[redacted]"

_URL_WITH_QUERY = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")
_SECRET_PARAM = re.compile(
    r"(?i)\b(access_token|refresh_token|id_token|token|api[_-]?key|key|password|passwd|"
    r"secret|session(?:_?id)?|sid|auth|code)=([^&\s\"'<>]+)"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_LONG_TOKEN = re.compile(  # 32+ token characters, but not a UUID: ids are not secrets
    rf"(?<![A-Za-z0-9_-])(?!{_UUID}(?![A-Za-z0-9_-]))[A-Za-z0-9_-]{{32,}}(?![A-Za-z0-9_-])"
)


CACHED_TEXT_CHARS = 512  # error messages and targets repeat across users: scrub each once


def scrub_text(text: str) -> str:
    """Free text with URL queries, JWTs, auth headers, secret params, emails and tokens removed."""
    return _scrub_short(text) if len(text) <= CACHED_TEXT_CHARS else _scrub(text)


def _scrub(text: str) -> str:
    text = _URL_WITH_QUERY.sub(r"\1", text)
    text = _JWT.sub(TOKEN, text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {TOKEN}", text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _EMAIL.sub(EMAIL, text)
    return _LONG_TOKEN.sub(TOKEN, text)


_scrub_short = lru_cache(maxsize=4096)(_scrub)  # at most 4096 x 512 characters kept


@lru_cache(maxsize=8192)  # pages and endpoints repeat: most URLs are scrubbed once
def scrub_url(url: str) -> str:
    """`scheme://host[:port]/path` with emails and tokens in the path replaced.

    Query string, fragment and user info are dropped. A relative URL stays relative.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "/"
    netloc = f"{host}:{port}" if host and port else host
    path = scrub_text(parts.path) if parts.path else ("/" if netloc else "")
    return urlunsplit((parts.scheme.lower(), netloc.lower(), path, "", "")) or "/"
