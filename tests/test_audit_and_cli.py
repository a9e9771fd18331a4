"""The audit log's hash chain, and the CLI as a user runs it (in-process ``main``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderdesk_mcp.adapters.jsonl_audit_log import JsonlAuditLog, tail, verify
from orderdesk_mcp.entrypoints.cli import main
from orderdesk_mcp.ports.audit import AuditRecord, FieldChange

pytestmark = pytest.mark.anyio


def _record(n: int) -> AuditRecord:
    return AuditRecord(
        time=1_767_225_600.0 + n,
        correlation_id=f"c{n}",
        tenant="default",
        store_id="1",
        tool="orders_update",
        order_id=str(500_000 + n),
        outcome="ok",
        changes=(FieldChange(field="email", before="a", after="b"),),
    )


async def _write(path: Path, count: int) -> None:
    async with JsonlAuditLog(path) as log:
        for n in range(count):
            await log.append(_record(n))


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
    lines[1] = lines[1].replace('"after":"b"', '"after":"c"')
    path.write_text("\n".join(lines) + "\n")
    report = verify(path)
    assert (report.ok, report.bad_line, report.reason) == (False, 2, "record was edited")


async def test_a_removed_record_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await _write(path, 3)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    report = verify(path)
    assert (report.ok, report.bad_line) == (False, 2)
    assert report.reason == "chain broken (a record was removed or reordered)"


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
        "orderdesk-mcp: configuration error: ORDERDESK_CACHE_TTL must be 0 or more seconds\n"
    )
