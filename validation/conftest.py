"""`pytest validation/`: one test per expectation of the signalcheck config, judged against
the newest run ledger (or `--ledger PATH`).

The config comes from `--signalcheck-config`, `$SIGNALCHECK_CONFIG` or ./signalcheck.yaml;
backend URLs from the config or `SIGNALCHECK_<BACKEND>_URL`, credentials from the
environment variables the config names. Works the same against the local stack and a remote
one.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from signalcheck.config import Config, ConfigError, load_config
from signalcheck.evidence import Context, plan
from signalcheck.evidence.backends import BackendSet
from signalcheck.ledger import (
    ACTOR_KINDS,
    Entry,
    Ledger,
    LedgerError,
    LedgerWarning,
    newest_ledger,
)

CONFIG_KEY = pytest.StashKey[Config]()
LEDGER_KEY = pytest.StashKey[Path]()
ENTRIES_KEY = pytest.StashKey[list[Entry]]()
SKIPPED_KEY = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("signalcheck")
    group.addoption(
        "--signalcheck-config",
        default=None,
        help="signalcheck config file (default: $SIGNALCHECK_CONFIG or ./signalcheck.yaml)",
    )
    group.addoption(
        "--ledger",
        default=None,
        help="run ledger to validate (default: the newest under the config's runs_dir)",
    )


def _config(pytest_config: pytest.Config) -> Config:
    try:
        return load_config(pytest_config.getoption("signalcheck_config"))
    except ConfigError as exc:
        raise pytest.UsageError(f"signalcheck: {exc}") from exc


def _ledger_path(pytest_config: pytest.Config, config: Config) -> Path:
    given = pytest_config.getoption("ledger")
    try:
        return Path(given) if given else newest_ledger(config.runs_dir)
    except LedgerError as exc:
        raise pytest.UsageError(
            f"signalcheck: {exc}; run the probes first or pass --ledger PATH"
        ) from exc


def pytest_configure(config: pytest.Config) -> None:
    signalcheck = _config(config)
    config.stash[CONFIG_KEY] = signalcheck
    config.stash[LEDGER_KEY] = _ledger_path(config, signalcheck)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Read the ledger once; stop with exit 2 when it cannot be read, when no actor touched
    the system in its run, or when the config expects nothing: there is nothing to judge.
    A torn last line it skipped is named at the end of the run."""
    config = session.config
    path = config.stash[LEDGER_KEY]
    try:
        with warnings.catch_warnings(record=True) as skipped:
            warnings.simplefilter("always", LedgerWarning)
            entries = Ledger(path).entries()
    except LedgerError as exc:
        pytest.exit(f"signalcheck: {exc}", returncode=2)
    config.stash[SKIPPED_KEY] = [f"signalcheck: warning: {w.message}" for w in skipped]
    if not any(e.kind in ACTOR_KINDS for e in entries):
        pytest.exit(
            f"signalcheck: {path}: no actor touched the system in this run (no "
            f"{', '.join(sorted(ACTOR_KINDS))} entry): run the probes (or load, or a chaos "
            "experiment that is not --dry) first",
            returncode=2,
        )
    if not plan(config.stash[CONFIG_KEY].expectations):
        pytest.exit(
            f"signalcheck: {config.stash[CONFIG_KEY].source}: expectations: none configured",
            returncode=2,
        )
    config.stash[ENTRIES_KEY] = entries


def pytest_report_header(config: pytest.Config) -> list[str]:
    signalcheck = config.stash[CONFIG_KEY]
    return [f"signalcheck config: {signalcheck.source}", f"ledger: {config.stash[LEDGER_KEY]}"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in terminalreporter.config.stash.get(SKIPPED_KEY, []):
        terminalreporter.write_line(line, yellow=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "verification" in metafunc.fixturenames:
        verifications = plan(metafunc.config.stash[CONFIG_KEY].expectations)
        metafunc.parametrize("verification", verifications, ids=[v.id for v in verifications])


@pytest.fixture(scope="session")
def evidence(pytestconfig: pytest.Config) -> Iterator[Context]:
    """The config, the ledger's entries and the backends, shared by the run's verifications."""
    config = pytestconfig.stash[CONFIG_KEY]
    backends = BackendSet(config.backends)
    yield Context(config=config, entries=pytestconfig.stash[ENTRIES_KEY], backends=backends)
    backends.close()
