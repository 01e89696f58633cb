"""The starter config as commented YAML, and `--update`'s additions to one written before.

Each section ends with a `# end of <section>` line: `--update` inserts the entries that are
new on the live system just above it, under a dated comment, and changes nothing else, so
every comment and edit of the user stays. An entry the user commented out (or that init wrote
commented out) counts as present: it is never added again."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

import yaml

from signalcheck.errors import ConfigError
from signalcheck.scaffold.starter import EXPECTATION_SECTIONS, SECTIONS, Entry, Starter

WIDTH = 100
_COMMENTED_NAME = re.compile(r"^\s*#\s*-\s*\{name:\s*['\"]?([^,'\"}]+)")


def _flow(value: Any) -> str:
    """`value` as one line of YAML."""
    if isinstance(value, str):
        return json.dumps(value)
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    return dumped.strip()


def _indent(section: str) -> str:
    return "    " if section in EXPECTATION_SECTIONS else "  "


def _comment(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=f"{indent}# ", subsequent_indent=f"{indent}#   "
    )


def entry_lines(entry: Entry) -> list[str]:
    indent = _indent(entry.section)
    body = (
        f"{_flow(entry.name)}: {_flow(entry.value)}"
        if entry.section == "regions"
        else f"- {_flow(entry.value)}"
    )
    lines = _comment(entry.comment, indent) if entry.comment else []
    return [*lines, f"{indent}{'# ' if entry.disabled else ''}{body}"]


def _marker(section: str) -> str:
    return f"# end of {section}"


def _section(section: str, entries: list[Entry]) -> list[str]:
    indent = _indent(section)
    head = indent[:-2] + section + ":"
    if not any(not e.disabled for e in entries):
        head += " []  # none active: delete the [] once you uncomment one"
    body = [line for entry in entries for line in entry_lines(entry)]
    return [head, *body, f"{indent}{_marker(section)}"]


def render(starter: Starter, backends: dict[str, dict[str, Any]], source: str) -> str:
    """The whole starter config; `source` says where and when it was read from."""
    parts = {s: _section(s, starter.section(s)) for s in SECTIONS}
    lines = [
        f"# signalcheck config written by `signalcheck init --from-prometheus` from {source}.",
        "# Everything below was read from the live system: its targets, rules, routes and",
        "# series. Entries that need you first are commented out and say why. Re-run with",
        "# --update to add what is new there: it adds above the `# end of ...` lines and keeps",
        "# everything else as you left it. Every key: docs/configuration.md.",
        "",
        "# The regions: the values of the targets' region label.",
        *parts["regions"],
        "",
        "# The backends it was read from (the others are the local stack's, `stack.ports`).",
        "backends:",
        *(f"  {name}: {_flow(value)}" for name, value in backends.items()),
        "",
        "# The job the local stack's Prometheus scrapes the regions as (`signalcheck up`): the",
        "# job present in the most regions.",
        f"stack: {_flow({'scrape': {'job': starter.service_job}})}",
        "",
        "# Hosts probes, load and chaos may send requests to: the regions' hosts.",
        *parts["allowlist"],
        "",
        *parts["checks"],
        "",
        "# Conditional alert expectations are judged when a run planned their fault: run a",
        "# chaos experiment whose action is marked with that fault (chaos/README.md).",
        "expectations:",
        *(line for s in SECTIONS if s in EXPECTATION_SECTIONS for line in parts[s]),
    ]
    return "\n".join(lines) + "\n"


def _present(text: str) -> dict[str, set[str]]:
    """Section -> the names it has, active or commented out."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None
    expectations = doc.get("expectations") or {}
    named = {
        "regions": set(doc.get("regions") or {}),
        "allowlist": set(doc.get("allowlist") or []),
        "checks": {c.get("name") for c in doc.get("checks") or [] if isinstance(c, dict)},
        **{
            s: {e.get("name") for e in expectations.get(s) or [] if isinstance(e, dict)}
            for s in EXPECTATION_SECTIONS
        },
    }
    commented = {
        m.group(1).strip() for line in text.splitlines() if (m := _COMMENTED_NAME.match(line))
    }
    return {section: names | commented for section, names in named.items()}


def add_new(text: str, starter: Starter, stamp: str) -> tuple[str, list[Entry]]:
    """`text` with the entries of `starter` it lacks inserted above their sections' end
    lines (under a comment with `stamp`), and those entries; a ConfigError naming the end
    line when a section to add to has lost it."""
    present = _present(text)
    new = [e for e in starter.entries if e.name not in present[e.section]]
    lines = text.splitlines()
    for section in SECTIONS:
        adding = [e for e in new if e.section == section]
        if not adding:
            continue
        at = next((i for i, ln in enumerate(lines) if ln.strip() == _marker(section)), None)
        if at is None:
            raise ConfigError(
                f"no `{_marker(section)}` line to add {len(adding)} new {section} entries "
                f"above (e.g. {adding[0].name}); put it back at the end of the section"
            )
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        block = [f"{indent}# added by `signalcheck init --from-prometheus --update` ({stamp})"]
        block += [line for entry in adding for line in entry_lines(entry)]
        lines[at:at] = block
        if any(not e.disabled for e in adding):
            _open_empty_section(lines, section, at)
    return "\n".join(lines) + "\n", new


def _open_empty_section(lines: list[str], section: str, before: int) -> None:
    """`<section>: [] ...` above line `before` becomes `<section>:` (it has entries now)."""
    for i in range(before - 1, -1, -1):
        if lines[i].lstrip().startswith(f"{section}:"):
            head = lines[i].split(":", 1)[0]
            if lines[i][len(head) + 1 :].lstrip().startswith("[]"):
                lines[i] = f"{head}:"
            return
