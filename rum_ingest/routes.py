"""Fold URLs into route templates, and cap how many distinct values a label may take.

`/v1/assignments/8f14e45f-ceea-4f67-9e3c-1a2b3c4d5e6f` becomes `/v1/assignments/{uuid}`;
configured templates such as `/users/{name}/settings` win over the generic rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

OTHER = "other"
MAX_SEGMENTS = 8
MAX_SEGMENT_CHARS = 64
CACHE_SIZE = 8192  # pages and endpoints repeat: most URLs are folded once

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^(?=.*\d)[0-9a-fA-F]{8,}$|^[0-9a-fA-F]{16,}$")
_NUMBERISH = re.compile(r"^(?:[^0-9]*[0-9]){4}")  # four digits or more: ids, dates, phone numbers
_TOKEN = re.compile(r"^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_-]{20,}$")
_PLACEHOLDER = re.compile(r"^\{[^/{}]+\}$")


def fold_segment(segment: str) -> str:
    """One path segment, or the placeholder for the kind of identifier it is."""
    if segment.isdigit():
        return "{id}"
    if _UUID.match(segment):
        return "{uuid}"
    if _HEX.match(segment):
        return "{hash}"
    if "@" in segment or segment.startswith("["):
        return "{redacted}"
    if _TOKEN.match(segment) or len(segment) > MAX_SEGMENT_CHARS:
        return "{token}"
    if _NUMBERISH.match(segment):
        return "{id}"
    return segment


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = [
        "[^/]+" if _PLACEHOLDER.match(segment) else re.escape(segment)
        for segment in template.rstrip("/").split("/")
    ]
    return re.compile("^" + "/".join(parts) + "/?$")


class RouteFolder:
    """URL -> route template: configured templates first, then the generic identifier rules."""

    def __init__(self, templates: Iterable[str] = ()):
        self._templates = [(template, _template_pattern(template)) for template in templates]
        self.path = lru_cache(maxsize=CACHE_SIZE)(self._fold_path)
        self.endpoint = lru_cache(maxsize=CACHE_SIZE)(self._fold_endpoint)

    def _fold_path(self, url: str) -> str:
        """The route template of a URL's path (query and host ignored)."""
        try:
            path = urlsplit(url).path or "/"
        except ValueError:
            return "/"
        path = "/" + path.strip("/")
        for template, pattern in self._templates:
            if pattern.match(path):
                return template
        segments = path.split("/")[1:]
        folded = [fold_segment(segment) for segment in segments[:MAX_SEGMENTS]]
        if len(segments) > MAX_SEGMENTS:
            folded.append("{rest}")
        return "/" + "/".join(folded)

    def _fold_endpoint(self, url: str, page_url: str) -> str:
        """An API call's route template, prefixed with its host when it is another origin's."""
        try:
            target, page = urlsplit(url), urlsplit(page_url)
            other_host = bool(target.netloc) and target.netloc != page.netloc
        except ValueError:
            other_host = False
        route = self.path(url)
        return f"{target.hostname}{route}" if other_host and target.hostname else route


class LabelCap:
    """At most `cap` distinct values for one label: the first `cap - 1` seen, then `other`."""

    def __init__(self, cap: int):
        if cap < 2:
            raise ValueError("a label cap must allow at least one value besides 'other'")
        self.cap = cap
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        if len(self._seen) < self.cap - 1:
            self._seen.add(value)
            return value
        return OTHER
