"""The audit log (JsonlAuditLog): the hash chain, what verify catches, tail; then the audit
commands and the CLI as a user runs it (in-process ``main``)."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from orderdesk_mcp.adapters.jsonl_audit_log import GENESIS, JsonlAuditLog, tail, verify
from orderdesk_mcp.entrypoints import cli_audit
from orderdesk_mcp.entrypoints.cli import main
from orderdesk_mcp.ports.audit import AuditLog, AuditRecord, FieldChange

pytestmark = pytest.mark.anyio

# --- The hash chain -------------------------------------------------------------------------------


def _record(n: int, *, big: str = "") -> AuditRecord:
    return AuditRecord(
        time=1_767_225_600.0 + n,
        correlation_id=f"c{n}",
        tenant="acme",
        store_id="100001",
        tool="orders_update",
        order_id=str(500_000 + n),
        outcome="ok",
        attempts=1,
        changes=(FieldChange(field="email", before="a@example.com", after=f"b{n}@example.com{big}"),),
    )


async def _write(path: Path, count: int) -> None:
    async with JsonlAuditLog(path) as log:
        for n in range(count):
            await log.append(_record(n))


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


async def test_the_chain_verifies_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 3)
    async with JsonlAuditLog(path) as reopened:
        await reopened.append(_record(3))
    report = verify(path)
    assert (report.ok, report.records) == (True, 4)
    assert [r["order_id"] for r in tail(path, 2)] == ["500002", "500003"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


async def test_an_edited_record_is_detected_by_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 3)
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"after":"b1@example.com"', '"after":"c1@example.com"')
    path.write_text("\n".join(lines) + "\n")
    report = verify(path)
    assert (report.ok, report.bad_line, report.reason) == (False, 2, "record was edited")


async def test_each_line_links_to_the_previous_one_and_the_chain_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 3)
    entries = [json.loads(line) for line in _lines(path)]
    assert [e["prev_hash"] for e in entries] == [GENESIS, entries[0]["hash"], entries[1]["hash"]]
    assert entries[2]["changes"] == [{"field": "email", "before": "a@example.com", "after": "b2@example.com"}]
    report = verify(path)
    assert (report.ok, report.records, report.bad_line) == (True, 3, None)


async def test_concurrent_appends_and_a_second_writer_on_the_same_file_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first, second = JsonlAuditLog(path), JsonlAuditLog(path)  # as two server processes would
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for n in range(40):
                tg.start_soon((first if n % 2 else second).append, _record(n))
    assert (verify(path).ok, verify(path).records) == (True, 40)


async def test_a_record_longer_than_the_read_chunk_still_links(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with JsonlAuditLog(path) as log:
        await log.append(_record(0, big="x" * 200_000))
        await log.append(_record(1))
    assert verify(path).ok


async def test_an_edited_record_is_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 4)
    lines = _lines(path)
    lines[2] = lines[2].replace('"outcome":"ok"', '"outcome":"error"')
    path.write_text("\n".join(lines) + "\n")
    report = verify(path)
    assert (report.ok, report.records, report.bad_line, report.reason) == (False, 2, 3, "record was edited")


async def test_a_removed_record_is_reported_at_the_line_after_the_gap(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 4)
    lines = _lines(path)
    del lines[1]
    path.write_text("\n".join(lines) + "\n")
    report = verify(path)
    assert (report.ok, report.bad_line, report.reason) == (
        False, 2, "chain broken (a record was removed or reordered)",
    )  # fmt: skip


async def test_reordered_records_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 3)
    lines = _lines(path)
    path.write_text("\n".join([lines[0], lines[2], lines[1]]) + "\n")
    assert (verify(path).ok, verify(path).bad_line) == (False, 2)


async def test_a_line_that_is_not_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 2)
    path.write_text(path.read_text() + "{oops\n")
    assert (verify(path).ok, verify(path).bad_line, verify(path).reason) == (False, 3, "not valid JSON")


async def test_a_record_that_ends_early_is_reported_as_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 2)
    path.write_text(path.read_text() + '{"tool":"orders_update","outc\n')
    report = verify(path)
    assert (report.ok, report.records, report.cut_off) == (True, 2, (3,))


async def test_a_record_replaced_by_a_line_that_is_not_json_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 3)
    lines = _lines(path)
    path.write_text("\n".join([lines[0], '{"cut', lines[2]]) + "\n")
    report = verify(path)
    assert (report.ok, report.bad_line, report.cut_off) == (False, 3, (2,))


async def test_after_a_line_cut_off_by_a_crash_the_log_takes_records_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A process that stopped mid-append left half a line: every later append failed to read the last
    # record's hash, so every write of every later process failed until someone edited the file.
    path = tmp_path / "audit.jsonl"
    await _write(path, 2)
    path.write_bytes(path.read_bytes() + b'{"tool":"orders_update","outcome":"attempt","ha')
    await _write(path, 1)
    report = verify(path)
    assert (report.ok, report.records, report.cut_off) == (True, 3, (3,))
    assert _lines(path)[2] == '{"tool":"orders_update","outcome":"attempt","ha'
    assert main(["audit", "verify", "--path", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"audit log {path}: 3 records, chain intact; line 3 cut off (the process stopped while writing; "
        "that record is lost)\n"
    )


async def test_tail_returns_the_last_records_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 5)
    assert [r["order_id"] for r in tail(path, 2)] == ["500003", "500004"]
    assert tail(path, 0) == []
    assert tail(tmp_path / "missing.jsonl", 3) == []
    assert verify(tmp_path / "missing.jsonl").ok


# --- The audit commands and the CLI ---------------------------------------------------------------


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orderdesk-mcp")
    cli_audit.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


async def test_the_audit_commands_print_records_and_name_the_tampered_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERDESK_DATA_DIR", str(tmp_path))
    path = tmp_path / "audit.jsonl"
    await _write(path, 3)
    assert _run(["audit", "tail", "-n", "2"]) == 0
    assert [json.loads(line)["correlation_id"] for line in capsys.readouterr().out.splitlines()] == [
        "c1",
        "c2",
    ]
    assert _run(["audit", "verify"]) == 0
    assert capsys.readouterr().out == f"audit log {path}: 3 records, chain intact\n"
    other = tmp_path / "elsewhere.jsonl"
    other.write_text(path.read_text().replace('"c2"', '"c9"'))
    assert _run(["audit", "verify", "--path", str(other)]) == 1
    assert capsys.readouterr().out == f"audit log {other}: TAMPERED at line 3: record was edited\n"


async def test_audit_cli_tails_and_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 2)
    assert main(["audit", "tail", "-n", "1", "--path", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["order_id"] == "500001"
    assert main(["audit", "verify", "--path", str(path)]) == 0
    assert capsys.readouterr().out == f"audit log {path}: 2 records, chain intact\n"
    path.write_text(path.read_text().replace('"correlation_id":"c1"', '"correlation_id":"c9"'))
    assert main(["audit", "verify", "--path", str(path)]) == 1
    assert capsys.readouterr().out == f"audit log {path}: TAMPERED at line 2: record was edited\n"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``main`` configures root logging for a real process; put the test's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _sim_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("ORDERDESK_STORE_ID", "ORDERDESK_API_KEY", "ORDERDESK_CACHE_URL", "ORDERDESK_MASTER_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ORDERDESK_DATA_DIR", str(tmp_path))


def test_orders_get_and_list_print_json_from_the_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _sim_env(monkeypatch, tmp_path)
    assert main(["orders", "list", "--limit", "2", "--status", "New"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert page["limit"] == 2
    assert all(o["folder_id"] == 1 for o in page["orders"])
    first = page["orders"][0]["id"]
    assert main(["orders", "get", first]) == 0
    assert json.loads(capsys.readouterr().out)["order"]["id"] == first


def test_cli_errors_are_one_line_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _sim_env(monkeypatch, tmp_path)
    assert main(["orders", "get", "999999"]) == 1
    credentials_line, error_line = capsys.readouterr().err.splitlines()
    assert credentials_line.startswith("orderdesk-mcp: credentials: the built-in simulator")
    assert error_line == "orderdesk-mcp: Order 999999 was not found in store 100001."
    monkeypatch.setenv("ORDERDESK_CACHE_TTL", "-5")
    assert main(["orders", "list"]) == 2
    assert capsys.readouterr().err == (
        "orderdesk-mcp: configuration error: ORDERDESK_CACHE_TTL must be 0 or more seconds, got -5\n"
    )


_log: AuditLog = JsonlAuditLog(Path("unused.jsonl"))
