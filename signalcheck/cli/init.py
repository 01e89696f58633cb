"""`signalcheck init [DIR]`: a starter signalcheck.yaml for the local stack, and with
`--with-rules` copies of the shipped alerting rules and Alertmanager routes to edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from jinja2 import Environment, PackageLoader, StrictUndefined

from signalcheck.cli.common import console, user_errors
from signalcheck.config import DEFAULT_CONFIG_PATH, ConfigError
from signalcheck.stack.render import ALERTMANAGER_YML, shipped_rule_files

app = typer.Typer()

RULES_DIR = Path("rules")
"""Where `--with-rules` copies the shipped rule files, relative to DIR."""
ALERTMANAGER_COPY = Path("alertmanager.yml")
"""Where `--with-rules` copies the shipped Alertmanager config, relative to DIR."""
_env = Environment(
    loader=PackageLoader("signalcheck", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def starter_config(*, with_rules: bool) -> str:
    """The starter signalcheck.yaml; `with_rules` sets the keys naming the copied files."""
    return _env.get_template(f"{DEFAULT_CONFIG_PATH.name}.j2").render(
        with_rules=with_rules,
        rule_files=f"{RULES_DIR}/*.yml",
        alertmanager_config=str(ALERTMANAGER_COPY),
    )


def starter_files(*, with_rules: bool) -> dict[Path, str]:
    """Path relative to DIR -> text, of every file `init` writes."""
    files = {Path(DEFAULT_CONFIG_PATH.name): starter_config(with_rules=with_rules)}
    if with_rules:
        files.update({RULES_DIR / path.name: path.read_text() for path in shipped_rule_files()})
        files[ALERTMANAGER_COPY] = ALERTMANAGER_YML.read_text()
    return files


def write_starter(directory: Path, *, with_rules: bool, force: bool) -> list[Path]:
    """Write the starter files into `directory` (created if missing); without `force`, a
    ConfigError and nothing written when one of them exists already."""
    files = {
        directory / relative: text
        for relative, text in starter_files(with_rules=with_rules).items()
    }
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory (expected a folder for signalcheck.yaml)")
    existing = [path for path in files if path.exists()]
    if existing and not force:
        others = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ConfigError(f"{existing[0]} already exists{others}; use --force to overwrite")
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    except OSError as exc:
        raise ConfigError(f"{exc.filename}: cannot write ({exc.strerror})") from exc
    return list(files)


@app.command()
@user_errors
def init(
    directory: Annotated[
        Path, typer.Argument(help="Folder for signalcheck.yaml (created if missing).")
    ] = Path("."),
    with_rules: Annotated[
        bool,
        typer.Option(
            "--with-rules",
            help="Also copy the shipped alerting rules (rules/*.yml) and Alertmanager routes "
            "(alertmanager.yml) to edit; the config points the stack and `mutate` at them.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that exist already.")
    ] = False,
) -> None:
    """Write a starter signalcheck.yaml that runs as-is against the local stack."""
    for path in write_starter(directory, with_rules=with_rules, force=force):
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    cd = "" if directory == Path(".") else f"cd {directory} && "
    console.print(
        f"next: {cd}signalcheck up && signalcheck probe --once "
        "(then edit the parts marked YOUR SERVICE)",
        highlight=False,
        soft_wrap=True,
    )
