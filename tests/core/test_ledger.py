"""The run ledger: append-only JSONL that several processes append to at once."""

import json
import multiprocessing

import pytest

from signalcheck.ledger import Ledger, LedgerError, new_run_dir, newest_ledger, read_entries

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


def test_a_torn_line_is_reported_with_file_and_line(tmp_path):
    path = tmp_path / "ledger.jsonl"
    Ledger(path).append("probe")
    with path.open("a") as handle:
        handle.write('{"ts": 1, "kind"\n')
    with pytest.raises(LedgerError, match=rf"{path}:2: not a ledger entry"):
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
