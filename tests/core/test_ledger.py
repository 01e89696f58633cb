"""The run ledger: append-only JSONL that several processes append to at once."""

import json
import multiprocessing
import subprocess
from pathlib import Path

import pytest
import yaml

from signalcheck.errors import LedgerError
from signalcheck.ledger import Ledger, LedgerWarning, new_run_dir, newest_ledger, read_entries
from tests.support import REPO, VALIDATION_SUITE

WRITERS = 4
ENTRIES_PER_WRITER = 300
PAYLOAD = "x" * 9000  # larger than a pipe buffer page: a torn write would show


def _append_many(path: str, writer: int) -> None:
    ledger = Ledger(path)
    for n in range(ENTRIES_PER_WRITER):
        ledger.append("probe", writer=writer, n=n, payload=PAYLOAD)


def test_append_and_read_back(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl")
    first = ledger.append("probe", check="health", region="eu-west-1", trace_id="ab" * 16)
    ledger.append("chaos", action="kill", region="eu-west-1")
    entries = ledger.entries()
    assert [e.kind for e in entries] == ["probe", "chaos"]
    assert entries[0] == first
    assert entries[0].field("trace_id") == "ab" * 16
    assert entries[0].ts > 0
    assert [e.field("action") for e in ledger.entries("chaos")] == ["kill"]


def test_concurrent_appends_from_processes_never_tear_lines(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(path), w)) for w in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    lines = path.read_text().splitlines()
    assert len(lines) == WRITERS * ENTRIES_PER_WRITER
    seen = {(entry["writer"], entry["n"]) for entry in map(json.loads, lines)}
    assert len(seen) == WRITERS * ENTRIES_PER_WRITER
    assert all(entry.field("payload") == PAYLOAD for entry in read_entries(path))


def test_a_broken_line_ending_in_a_newline_is_reported_with_file_and_line(tmp_path):
    path = tmp_path / "ledger.jsonl"
    Ledger(path).append("probe")
    with path.open("a") as handle:
        handle.write('{"ts": 1, "kind"\n')
    with pytest.raises(LedgerError, match=rf"{path}:2: not JSON \(Expecting ':' delimiter"):
        list(read_entries(path))


def test_run_dirs_are_unique_and_the_newest_ledger_is_found(tmp_path):
    first, second = new_run_dir(tmp_path), new_run_dir(tmp_path)
    assert first != second
    Ledger(first / "ledger.jsonl").append("run")
    Ledger(second / "ledger.jsonl").append("run")
    assert newest_ledger(tmp_path) == second / "ledger.jsonl"


def test_no_ledger_is_a_clear_error(tmp_path):
    with pytest.raises(LedgerError, match="no run ledger found"):
        newest_ledger(tmp_path)


def test_the_newest_ledger_is_the_one_that_started_last_not_the_last_folder_name(tmp_path):
    """A run folder named by hand (or by a clock that went back) must not win: the first
    entry's recorded time decides."""
    late_named = tmp_path / "zzz-copied-run"
    early_named = tmp_path / "20200101T000000Z"
    Ledger(late_named / "ledger.jsonl").append("probe", ts=1_000.0)
    Ledger(early_named / "ledger.jsonl").append("probe", ts=2_000.0)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "ledger.jsonl").write_text("not json\n")
    assert newest_ledger(tmp_path) == early_named / "ledger.jsonl"


GOOD = b'{"ts":1,"kind":"probe","check":"health"}\n'


@pytest.mark.parametrize(
    "torn",
    [b'{"ts":2,"kind":"pro', b'{"ts":2,"kind":"caf\xc3'],
    ids=["mid-json", "mid-utf8-character"],
)
def test_a_torn_last_line_is_skipped_with_a_warning_naming_file_and_line(tmp_path, torn):
    """A writer killed mid-line leaves a last line with no newline: the entries before it are
    read, and the skipped line is named."""
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(GOOD + GOOD + torn)
    with pytest.warns(LedgerWarning, match=rf"^{path}:3: torn last line skipped") as caught:
        entries = list(read_entries(path))
    assert [e.field("check") for e in entries] == ["health", "health"]
    assert len(caught) == 1


def test_a_complete_last_line_without_newline_is_an_entry(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(GOOD + GOOD.rstrip(b"\n"))
    assert len(list(read_entries(path))) == 2


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b"\xff\xfe garbage\n", "not UTF-8 (byte 0xff at column 1)"),
        (b"garbage here\n", "not JSON (Expecting value: line 1 column 1 (char 0))"),
        (b"[1, 2]\n", "not a ledger entry (a JSON list, not an object)"),
        (b'{"kind": "probe"}\n', "not a ledger entry (ts: Field required)"),
        (b'{"ts": "soon", "kind": 3}\n', "not a ledger entry (ts: Input should be a valid"),
        (b'{"ts": 1}', "not a ledger entry (kind: Field required)"),
    ],
    ids=["invalid-utf8", "garbage", "json-list", "no-ts", "wrong-types", "last-line-not-entry"],
)
def test_any_other_bad_line_is_one_line_naming_file_and_line(tmp_path, line, why):
    """Strict where no writer can fail: a bad line before the last, or a complete JSON line
    that is not an entry, is an error of one line (no pydantic text)."""
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(GOOD + line + (GOOD if line.endswith(b"\n") else b""))
    with pytest.raises(LedgerError) as raised:
        list(read_entries(path))
    message = str(raised.value)
    assert message.startswith(f"{path}:2: {why}")
    assert "\n" not in message and "pydantic" not in message


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (GOOD + b"\xff\xfe\n", "not UTF-8 (byte 0xff at column 1)"),
        (GOOD + b"garbage here\n", "not JSON (Expecting value"),
    ],
    ids=["invalid-utf8", "garbage"],
)
def test_validation_stops_with_exit_2_and_one_line_on_a_bad_ledger(tmp_path, content, why):
    """`pytest validation/` as a user runs it: exit 2, the reason on one stderr line, no
    traceback (invalid UTF-8 was an INTERNALERROR traceback, garbage three lines of pydantic)."""
    proc = _validate(tmp_path, content)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    ledger = tmp_path / "ledger.jsonl"
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Exit: signalcheck: {ledger}:2: {why}"), lines
    assert "Traceback" not in proc.stdout + proc.stderr


def test_validation_goes_on_past_a_torn_last_line_and_names_it(tmp_path):
    proc = _validate(tmp_path, GOOD + b'{"ts":2,"kind":"pro')
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]  # judged: no probe
    assert f"signalcheck: warning: {tmp_path / 'ledger.jsonl'}:2: torn last line skipped" in (
        proc.stdout
    )


def _validate(tmp_path: Path, ledger: bytes) -> subprocess.CompletedProcess[str]:
    """`pytest validation/` on a ledger holding `ledger`, with one trace expectation."""
    config = tmp_path / "signalcheck.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "regions": {"us-east-1": {"base_url": "http://127.0.0.1:1"}},
                "expectations": {"traces": [{"name": "t", "services": ["d"], "check": "x"}]},
            }
        )
    )
    (tmp_path / "ledger.jsonl").write_bytes(ledger)
    return subprocess.run(
        [*VALIDATION_SUITE,
         "-n", "0", f"--signalcheck-config={config}", f"--ledger={tmp_path / 'ledger.jsonl'}"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
