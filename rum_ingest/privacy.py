"""The privacy filter: what of an event may be stored, applied to every field before storage.

- Identity attributes (`user.*`, `enduser.*` and the usual names of a user's identity, in any
  attribute, context or attribution map) are dropped, and counted by the caller.
- Free text and attribute values keep their words but lose e-mails, bearer and basic
  credentials, JWTs, API keys, secret-looking parameters, long tokens, card-like numbers and
  URL query strings and fragments.
- URLs lose their query string, fragment and user info; their paths are scrubbed as free text.

README.md (Privacy) shows the rule as a table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

EMAIL = "[email]"
TOKEN = "[token]"
CARD = "[card]"
REDACTED = "[redacted]"

IDENTITY_NAMESPACES = frozenset({"user", "enduser"})
"""`user.id`, `user.email`, `user.name`, `user.full_name`, `user.roles`, `user.hash` (OTel, and
what Faro's tracing copies from `setUser`), `enduser.id`, `enduser.role`, ... : the whole
namespace, whatever the key after it."""
IDENTITY_NAMES = frozenset(
    {"userid", "username", "useremail", "email", "emailaddress", "fullname", "phone",
     "phonenumber", "enduserid"}
)  # fmt: skip
"""Keys outside those namespaces that name an identity, compared in lower case without
punctuation: `userId`, `user_name`, `email`, `full-name`, `phoneNumber`."""

_URL_WITH_QUERY = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")
_PATH_WITH_QUERY = re.compile(r"(?<![A-Za-z0-9_.~%/-])(/[A-Za-z0-9_.~%/+@:-]*)\?[^\s\"'<>]*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")
_SECRET_PARAM = re.compile(  # `name=value`, as in a query string or a form
    r"(?i)\b(access_token|refresh_token|id_token|token|api[_-]?key|key|password|passwd|"
    r"secret|session(?:_?id)?|sid|auth|code)=([^&\s\"'<>]+)"
)
_SECRET_FIELD = re.compile(  # `name: value`, as in a header or JSON
    r"(?i)\b(access_token|refresh_token|id_token|token|api[_-]?key|x-api-key|password|passwd|"
    r"secret|authorization)(\"?\s*:\s*\"?)([^\s\"'<>,;]+)"
)
_API_KEY = re.compile(  # the published formats of well-known providers' keys
    r"\b(?:(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|AIza[0-9A-Za-z_-]{35})"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CARD_LIKE = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_LONG_TOKEN = re.compile(  # 32+ token characters, but not a UUID: ids are not secrets
    rf"(?<![A-Za-z0-9_-])(?!{_UUID}(?![A-Za-z0-9_-]))[A-Za-z0-9_-]{{32,}}(?![A-Za-z0-9_-])"
)
_NOT_LETTERS = re.compile(r"[^a-z]")

CACHED_TEXT_CHARS = 512  # error messages and targets repeat across users: scrub each once


def scrub_text(text: str) -> str:
    """Free text with URL queries, credentials, API keys, emails, tokens and cards removed."""
    return _scrub_short(text) if len(text) <= CACHED_TEXT_CHARS else _scrub(text)


def _luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = match.group(0).replace(" ", "").replace("-", "")
    return CARD if _luhn(digits) else match.group(0)


def _scrub(text: str) -> str:
    text = _URL_WITH_QUERY.sub(r"\1", text)
    text = _PATH_WITH_QUERY.sub(r"\1", text)
    text = _JWT.sub(TOKEN, text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {TOKEN}", text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _SECRET_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _API_KEY.sub(TOKEN, text)
    text = _EMAIL.sub(EMAIL, text)
    text = _LONG_TOKEN.sub(TOKEN, text)
    return _CARD_LIKE.sub(_card, text) if any(c.isdigit() for c in text) else text


_scrub_short = lru_cache(maxsize=4096)(_scrub)  # at most 4096 x 512 characters kept


@lru_cache(maxsize=4096)  # an app's attribute keys are few
def is_identity(key: str) -> bool:
    """Whether an attribute key names who the user is (its value is then never stored)."""
    lowered = key.strip().lower()
    return (
        lowered.split(".", 1)[0] in IDENTITY_NAMESPACES
        or _NOT_LETTERS.sub("", lowered) in IDENTITY_NAMES
    )


def scrub_attributes(attributes: Mapping[str, object]) -> tuple[dict[str, object], int]:
    """An attribute map without identity keys, its keys and text values scrubbed; and how many
    identity attributes it held."""
    kept: dict[str, object] = {}
    identities = 0
    for key, value in attributes.items():
        if is_identity(key):
            identities += 1
        else:
            kept[scrub_text(key)] = scrub_text(value) if isinstance(value, str) else value
    return kept, identities


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
