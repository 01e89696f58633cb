"""The wheel works outside the repository, as a team installs a pinned tool into its CI image:
built from this checkout, installed into a fresh venv, and run in an empty folder with the
README's commands: `init`, `up`, `probe --once`, the pytest plugin, `chaos run NAME --dry`,
`down`. Nothing of the checkout is on the path; the stack runs on free loopback ports."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import psutil
import pytest

from signalcheck.config import load_config
from signalcheck.evidence import verifications_for
from tests.support import REPO, on_free_ports

pytestmark = [pytest.mark.stack, pytest.mark.slow]

INSTALL_TIMEOUT = 600.0
COMMAND_TIMEOUT = 300.0


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One command of the installed tool; its output is shown when it fails."""
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    print(f"$ {' '.join(argv)} -> {done.returncode}\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv outside the checkout with the wheel of this checkout installed."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    pip = [sys.executable, "-m", "pip"]
    build = [*pip, "wheel", "-q", "--no-deps", "-w", str(dist), str(REPO)]
    subprocess.run(build, check=True, capture_output=True, timeout=INSTALL_TIMEOUT)
    (wheel,) = dist.glob("signalcheck-*.whl")
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    # no bytecode at install (a third of its time here): the modules the commands import are
    # compiled as they are first imported (the commands' environment lets Python write it)
    install = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-compile", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=INSTALL_TIMEOUT)
    return bin_dir


def processes_under(folder: Path) -> list[str]:
    """Command lines of running processes that mention `folder` (the stack's components)."""
    return [
        " ".join(p.info["cmdline"])
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and str(folder) in " ".join(p.info["cmdline"])
    ]


def test_the_installed_wheel_runs_the_readme_commands_in_an_empty_folder(
    installed, tmp_path
) -> None:
    unset = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["PATH"] = f"{installed}{os.pathsep}{env['PATH']}"
    work = tmp_path / "team-ci"
    work.mkdir()
    signalcheck = str(installed / "signalcheck")

    assert run([signalcheck, "init"], work, env).returncode == 0
    config = work / "signalcheck.yaml"
    on_free_ports(config, tmp_path / "ports")
    assert run([signalcheck, "up"], work, env).returncode == 0
    try:
        assert run([signalcheck, "probe", "--once"], work, env).returncode == 0
        plugin = ["-p", "no:cacheprovider", "--signalcheck-config", str(config)]
        validated = run([str(installed / "pytest"), *plugin], work, env)
        assert validated.returncode == 0, validated.stdout.partition("= FAILURES =")[2][:6000]
        expected = len(verifications_for(load_config(config).expectations))
        assert f"collected {expected} items" in validated.stdout, "one test per expectation"
        assert " passed" in validated.stdout and " failed" not in validated.stdout
        dry = run([signalcheck, "chaos", "run", "region-outage", "--dry"], work, env)
        assert dry.returncode == 0
        assert "experiment completed" in dry.stdout
    finally:
        down = run([signalcheck, "down"], work, env)
    assert down.returncode == 0
    assert processes_under(installed.parent) == [], "down left a component running"


def test_the_wheel_adds_one_name_to_site_packages_and_imports_from_there(installed, tmp_path):
    purelib_of = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = run([str(installed / "python"), "-c", purelib_of], tmp_path, {})
    purelib = Path(site.stdout.strip())
    record = next(purelib.glob("signalcheck-*.dist-info")) / "RECORD"
    top_level = {  # the console script is recorded as ../../../bin/signalcheck
        line.split("/")[0] for line in record.read_text().splitlines() if not line.startswith("..")
    }
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"signalcheck"}
    where = "import signalcheck.demo, signalcheck.compose; print(signalcheck.demo.__file__)"
    imported = run([str(installed / "python"), "-c", where], tmp_path, {})
    assert imported.stdout.startswith(str(purelib)), "signalcheck came from the checkout"
