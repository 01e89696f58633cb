"""The signalcheck pytest plugin: one test per expectation of the config, judged against the
newest run ledger (or `--ledger PATH`).

Loaded into every pytest session (entry point `pytest11`) and inert there: it only adds its
options (and imports nothing more) until a session is activated, by `--signalcheck-config
FILE` or by `activate` (the repository's `validation/conftest.py`, with the default config:
$SIGNALCHECK_CONFIG or ./signalcheck.yaml). Activated by the option with no test paths
given, the session collects the shipped suite (`suite.py`), so `pytest --signalcheck-config
FILE` needs no test file. Backend URLs come from the config or `SIGNALCHECK_<BACKEND>_URL`,
credentials from the environment variables the config names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from signalcheck.config import Config
    from signalcheck.evidence import Context, Outcome, Verification
    from signalcheck.pytest_plugin.run import Run

SUITE = Path(__file__).with_name("suite.py")
"""The shipped test module: `test_signal`, parametrized with the config's expectations."""
CONFIG_KEY: pytest.StashKey[Config] = pytest.StashKey()
LEDGER_KEY: pytest.StashKey[Path] = pytest.StashKey()
RUN_KEY: pytest.StashKey[Run] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("signalcheck")
    group.addoption(
        "--signalcheck-config",
        default=None,
        help="signalcheck config file: run one test per expectation (default with "
        "`pytest validation/`: $SIGNALCHECK_CONFIG or ./signalcheck.yaml)",
    )
    group.addoption(
        "--ledger",
        default=None,
        help="run ledger to validate (default: the newest under the config's runs_dir)",
    )


def activate(config: pytest.Config) -> None:
    """Make this session a signalcheck validation: load the config and find the ledger (a
    usage error naming the problem when either fails). Idempotent."""
    from signalcheck.config import load_config
    from signalcheck.errors import ConfigError, LedgerError
    from signalcheck.pytest_plugin.run import ledger_path

    if CONFIG_KEY in config.stash:
        return
    try:
        signalcheck = load_config(config.getoption("signalcheck_config"))
        ledger = ledger_path(signalcheck, config.getoption("ledger"))
    except (ConfigError, LedgerError) as exc:
        raise pytest.UsageError(f"signalcheck: {exc}") from exc
    config.stash[CONFIG_KEY] = signalcheck
    config.stash[LEDGER_KEY] = ledger


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("signalcheck_config") is None:
        return
    activate(config)
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args = [str(SUITE)]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Read the ledger once; stop with exit 2 when it cannot be read, when no actor touched
    the system in its run, or when the config expects nothing: there is nothing to judge.
    A torn last line it skipped is named at the end of the run."""
    config = session.config
    if CONFIG_KEY not in config.stash:
        if config.getoption("ledger") is not None:
            raise pytest.UsageError("signalcheck: --ledger needs --signalcheck-config FILE")
        return
    from signalcheck.errors import ConfigError, LedgerError
    from signalcheck.pytest_plugin.run import read_run

    try:
        config.stash[RUN_KEY] = read_run(config.stash[CONFIG_KEY], config.stash[LEDGER_KEY])
    except (ConfigError, LedgerError) as exc:
        pytest.exit(f"signalcheck: {exc}", returncode=2)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if CONFIG_KEY not in config.stash:
        return []
    return [
        f"signalcheck config: {config.stash[CONFIG_KEY].source}",
        f"ledger: {config.stash[LEDGER_KEY]}",
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    run = terminalreporter.config.stash.get(RUN_KEY, None)
    for line in run.skipped if run else []:
        terminalreporter.write_line(line, yellow=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if CONFIG_KEY not in metafunc.config.stash:
        return
    from signalcheck.evidence import verifications_for
    from signalcheck.pytest_plugin.suite import test_signal

    if metafunc.function is test_signal:
        verifications = verifications_for(metafunc.config.stash[CONFIG_KEY].expectations)
        metafunc.parametrize("verification", verifications, ids=[v.id for v in verifications])


@pytest.fixture(scope="session")
def evidence(pytestconfig: pytest.Config) -> Iterator[Context]:
    """The config, the ledger's entries and the backends, shared by the run's verifications."""
    from signalcheck.evidence import Context
    from signalcheck.evidence.backends import BackendSet

    config = pytestconfig.stash[CONFIG_KEY]
    backends = BackendSet(config.backends)
    yield Context(config=config, entries=pytestconfig.stash[RUN_KEY].entries, backends=backends)
    backends.close()


@pytest.fixture
def signalcheck_outcome(verification: Verification, evidence: Context) -> Outcome:
    """The verification judged on the run. One that could not be judged (a backend
    unavailable or answering an error) stops here, in the test's setup: pytest reports it as
    an error, apart from the expectations that failed, since it is no verdict on the system.
    An alert expectation's skip fails when its `experiment` glob names no experiment
    signalcheck knows while this run planned its fault (a renamed experiment's title)."""
    from signalcheck.evidence.experiments import unless_unmatched

    outcome = unless_unmatched(verification.expectation, verification.judge(evidence), evidence)
    if outcome.error is not None:
        pytest.fail(
            f"expectation: {verification.describe()}\nbackend:     {outcome.error}\n"
            "verdict:     none: the expectation could not be judged (an error, not a failure)",
            pytrace=False,
        )
    return outcome
