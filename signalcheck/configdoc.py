"""docs/configuration.md, generated from the config's pydantic models.

Every model reachable from `Config` gets a section: its key path in the YAML file, its
docstring and a table of its keys (type, default, meaning: the field's description).

    .venv/bin/python -m signalcheck.configdoc > docs/configuration.md

tests/core/test_configdoc.py fails when the file and the models drift apart, and when a
field has no description.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import AnyHttpUrl, BaseModel
from pydantic.fields import FieldInfo

from signalcheck.config import Config

REGENERATE = ".venv/bin/python -m signalcheck.configdoc > docs/configuration.md"
UNIT = "seconds"
"""The description of the `Seconds`/`Duration` aliases: a unit, not a field's meaning."""

INTRO = f"""\
# Configuration reference

<!-- Generated from signalcheck's pydantic models; do not edit by hand. Regenerate with:
     {REGENERATE} -->

One YAML file configures everything: `signalcheck.yaml` by default, `--config FILE`, or
`$SIGNALCHECK_CONFIG`. A config error names the file, the key and the expected form, and
the CLI exits with code 2; an unknown key is an error. Relative paths are relative to the
config file. Durations are in seconds (`p95_ms`: milliseconds). `null` is YAML's "not set".
`SIGNALCHECK_<BACKEND>_URL` (e.g. `SIGNALCHECK_PROMETHEUS_URL`) overrides a backend's `url`.

Key paths: `<name>` is a key you choose (a region's name, a profile's name), `[]` an item
of a list. A type in a link is a mapping described in its own section.
"""


@dataclass
class Section:
    """One model and the key paths where it appears in the YAML file."""

    model: type[BaseModel]
    paths: list[str] = field(default_factory=list)


def sections(root: type[BaseModel] = Config) -> list[Section]:
    """Every model reachable from `root`, in first-reached order (depth first)."""
    found: dict[type[BaseModel], Section] = {}
    _walk(root, "", found)
    return list(found.values())


def _walk(model: type[BaseModel], path: str, found: dict[type[BaseModel], Section]) -> None:
    section = found.setdefault(model, Section(model))
    if path in section.paths:
        return
    section.paths.append(path)
    hints = _hints(model)
    for name, info in _fields(model):
        key = info.alias or name
        prefix = f"{path}.{key}" if path else key
        for sub, suffix in _models_in(hints.get(name, info.annotation)):
            _walk(sub, prefix + suffix, found)


def _fields(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """The model's keys a user may write: `type` and `name` first, then declaration order."""
    fields = [(n, f) for n, f in model.model_fields.items() if not f.exclude]
    first = {"type": 0, "name": 1}
    return sorted(fields, key=lambda item: first.get(item[0], 2))


def _hints(model: type[BaseModel]) -> dict[str, Any]:
    """The annotations as written (with `Annotated`, which keeps the `Seconds` unit)."""
    try:
        return typing.get_type_hints(model, include_extras=True)
    except (NameError, TypeError):
        return {name: info.annotation for name, info in model.model_fields.items()}


def _models_in(tp: Any, suffix: str = "") -> list[tuple[type[BaseModel], str]]:
    """The models a value of type `tp` holds, each with the path suffix that reaches it."""
    origin, args = get_origin(tp), get_args(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [(tp, suffix)]
    if origin is Annotated:
        return _models_in(args[0], suffix)
    if origin in (Union, types.UnionType):
        return [found for arg in args for found in _models_in(arg, suffix)]
    if origin in (list, tuple, set, frozenset):
        return [found for arg in args for found in _models_in(arg, suffix + "[]")]
    if origin is dict:
        return _models_in(args[1], suffix + ".<name>")
    return []


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def _type(tp: Any, constraints: list[Any] | None = None) -> str:
    """A readable type: `list[str]`, `float (seconds)`, `a | b | c`, a link to a model."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        infos = [meta for meta in args[1:] if isinstance(meta, FieldInfo)]
        seconds = any(info.description == UNIT for info in infos)
        constraints = [c for info in infos for c in info.metadata] + (constraints or [])
        notes = [UNIT] if seconds else []
        notes += _bounds(constraints, seconds)
        base = _type(args[0])
        return f"{base} ({', '.join(notes)})" if notes else base
    if origin in (Union, types.UnionType):  # bounds of `x: int | None = Field(ge=1)` go to int
        return " | ".join(_type(arg, None if arg is type(None) else constraints) for arg in args)
    notes = _bounds(constraints or [], False)
    if origin is Literal:
        text = " | ".join(json.dumps(arg) if arg == "" else str(arg) for arg in args)
    elif origin in (list, tuple, set, frozenset):
        text = f"{origin.__name__}[{', '.join(_type(arg) for arg in args)}]"
    elif origin is dict:
        text = f"dict[{_type(args[0])}, {_type(args[1])}]"
    elif tp is type(None):
        text = "null"
    elif tp is Any:
        text = "any"
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        text = f"[{tp.__name__}](#{_anchor(tp)})"
    elif tp is AnyHttpUrl:
        text = "URL"
    elif isinstance(tp, type) and issubclass(tp, Path):
        text = "path"
    else:
        text = getattr(tp, "__name__", str(tp))
    return f"{text} ({', '.join(notes)})" if notes else text


def _bounds(constraints: list[Any], seconds: bool) -> list[str]:
    """Numeric bounds and lengths as words; a duration's `> 0` goes without saying."""
    low = high = None
    notes = []
    for c in constraints:
        if isinstance(c, annotated_types.Ge):
            low = f"≥ {_number(c.ge)}"
        elif isinstance(c, annotated_types.Gt) and not (seconds and c.gt == 0):
            low = f"> {_number(c.gt)}"
        elif isinstance(c, annotated_types.Le):
            high = f"≤ {_number(c.le)}"
        elif isinstance(c, annotated_types.Lt):
            high = f"< {_number(c.lt)}"
        elif isinstance(c, annotated_types.MinLen) and c.min_length:
            notes.append(f"at least {c.min_length}")
        elif isinstance(c, annotated_types.MaxLen):
            notes.append(f"at most {c.max_length}")
    return list(dict.fromkeys([bound for bound in (low, high) if bound] + notes))


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _field_type(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    """The field's type; pydantic keeps the bounds of a top-level `Annotated` alias and of
    `Field()` together in the field's metadata."""
    return _type(_hints(model).get(name, info.annotation), list(info.metadata))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel) and not value.model_dump(exclude_defaults=True):
        return "its defaults"
    return f"`{_yaml(value)}`"


def _yaml(value: Any) -> str:
    """`value` in YAML flow style; a model as the keys it sets apart from its defaults."""
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_defaults=True, by_alias=True)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml(k)}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    text = str(value)
    plain = text and text == text.strip() and not any(c in text for c in ",:{}[]#&*!|>'\"%@`")
    return text if plain and text not in ("null", "true", "false", "~") else json.dumps(text)


def description(info: FieldInfo) -> str | None:
    """The field's own description; the bare unit of a `Seconds` alias is none."""
    text = (info.description or "").strip()
    return text if text and text != UNIT else None


def undocumented(root: type[BaseModel] = Config) -> list[str]:
    """'Model.key (path)' for every field reachable from `root` without a description."""
    missing = []
    for section in sections(root):
        for name, info in _fields(section.model):
            if description(info) is None:
                key = info.alias or name
                path = section.paths[0]
                missing.append(
                    f"{section.model.__name__}.{key} ({path + '.' if path else ''}{key})"
                )
    return missing


def _cell(text: str) -> str:
    return _prose(" ".join(text.split())).replace("|", "\\|")


def _prose(text: str) -> str:
    """Markdown for plain text: outside `code`, `<name>` is no HTML tag and `*` no emphasis."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace("*", "\\*")
    return "`".join(parts)


def _heading(section: Section) -> str:
    paths = ", ".join(f"`{path}`" for path in section.paths if path) or "Top level"
    kind = section.model.model_fields.get("type")
    if kind is not None and get_origin(kind.annotation) is Literal:
        paths += f" with `type: {get_args(kind.annotation)[0]}`"
    return f"{paths} ({section.model.__name__})"


def _doc(model: type[BaseModel]) -> str:
    """The model's own docstring (not one inherited from BaseModel), as a paragraph."""
    doc = model.__dict__.get("__doc__")
    return _prose(inspect.cleandoc(doc)) if doc else ""


def render() -> str:
    """The whole of docs/configuration.md."""
    found = sections()
    out = [INTRO, "## Contents", ""]
    for section in found:
        out.append(f"- [{_heading(section)}](#{_anchor(section.model)})")
    out += ["", "## Sections", ""]
    for section in found:
        model = section.model
        out += [f'<a id="{_anchor(model)}"></a>', "", f"### {_heading(section)}", ""]
        if doc := _doc(model):
            out += [doc, ""]
        out += ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        for name, info in _fields(model):
            cells = (
                f"`{info.alias or name}`",
                _field_type(model, name, info),
                _default(info),
                description(info) or "",
            )
            out.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        out.append("")
    return "\n".join(out)


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
