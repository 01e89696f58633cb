"""The repository's folders install as subpackages of `signalcheck`: every Python package of
the product is listed in pyproject.toml, under the name its imports use."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.support import REPO

SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
OUTSIDE = {"tests", "bench", "scripts", "validation", "docs", "build", "dist", ".venv", ".git"}


def installed_name(folder: Path) -> str:
    """The import name of a repository folder, through pyproject's package-dir mapping."""
    relative = folder.relative_to(REPO).parts
    for name, mapped in SETUPTOOLS["package-dir"].items():
        if relative[0] == mapped:
            return ".".join([name, *relative[1:]])
    return ".".join(relative)


def test_every_python_package_of_the_product_is_listed_under_signalcheck() -> None:
    found = {
        installed_name(init.parent)
        for init in REPO.glob("*/**/__init__.py")
        if init.relative_to(REPO).parts[0] not in OUTSIDE
    }
    assert found == set(SETUPTOOLS["packages"])
    assert all(name == "signalcheck" or name.startswith("signalcheck.") for name in found)


def test_no_module_imports_a_top_level_folder_by_its_repository_name() -> None:
    """`import demo` works in the checkout only by accident of the working directory; an
    installed signalcheck has no `demo`, `chaos` or `probes` at the top level."""
    folders = tuple(SETUPTOOLS["package-dir"].values())
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in REPO.glob("**/*.py")
        if path.relative_to(REPO).parts[0] not in {".venv", ".git"}
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.lstrip().startswith(
            tuple(f"{kw} {f}" for kw in ("from", "import") for f in folders)
        )
        and line.split()[1].split(".")[0] in folders
    ]
    assert offenders == []
