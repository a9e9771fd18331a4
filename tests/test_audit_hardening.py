"""An audit log safe to keep: no card data, values kept as configured, and an attempt before every
upstream write so a write whose process died still leaves a trace."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orderdesk_mcp.adapters.jsonl_audit_log import AuditValues, JsonlAuditLog, tail, verify
from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.domain.commands import CreateOrderCommand
from orderdesk_mcp.domain.errors import UpstreamRejected
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.use_cases._audit import audit_attempt, audit_mutation
from orderdesk_mcp.domain.use_cases.audited_gateway import AuditedOrderGateway
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder
from orderdesk_mcp.entrypoints.cli import main
from orderdesk_mcp.ports.audit import FieldChange
from tests.fakes import FakeAuditLog, FakeClock, FakeOrderGateway

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="acme", store_id="100001")
CARD = "4111111111111111"
CARDED: dict[str, Any] = {
    "email": "ada@example.com",
    "cc_number": CARD,
    "cc_exp": "02/2030",
    "shipping": {"first_name": "Ada", "last_name": "Lovelace"},
    "order_items": [{"name": "Mug", "price": 9.5, "quantity": 1}],
    "checkout_data": {"payment": "4012 8888 8888 1881", "Card_Number": "x"},
    "order_metadata": {"deep": {"CVV": "123", "list": [{"cc_cvv": "999"}]}},
}


async def _create(audit: JsonlAuditLog | FakeAuditLog, order: dict[str, Any]) -> None:
    clock = FakeClock()
    cache, records = MemoryOrderCache(clock=clock), MemoryOrderCache(clock=clock)
    create = CreateOrder(gateway=FakeOrderGateway(), cache=cache, records=records, audit=audit, clock=clock)
    await create(CreateOrderCommand.parse(STORE, order))


async def test_card_data_never_reaches_the_audit_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with JsonlAuditLog(path, values="full") as audit:
        await _create(audit, CARDED)
    text = path.read_text()
    for secret in (CARD, "02/2030", "4012 8888 8888 1881", '"123"', '"999"'):
        assert secret not in text
    (record,) = tail(path)
    changes = {c["field"]: c["after"] for c in record["changes"]}
    assert changes["cc_number"] == "[redacted]"
    assert changes["cc_exp"] == "[redacted]"
    assert changes["checkout_data"] == {"payment": "[redacted]", "Card_Number": "[redacted]"}
    assert changes["order_metadata"] == {"deep": {"CVV": "[redacted]", "list": [{"cc_cvv": "[redacted]"}]}}
    assert changes["email"] == "ada@example.com"  # "full" keeps other values


async def test_card_data_is_redacted_before_any_audit_adapter_sees_it() -> None:
    audit = FakeAuditLog()
    await audit_mutation(
        audit, FakeClock(), store=STORE, tool="orders_update", order_id="1", outcome="error",
        changes=(), error=f"OrderDesk rejected the request. OrderDesk said: \"card {CARD} declined\"",
    )  # fmt: skip
    assert (
        audit.records[0].error == 'OrderDesk rejected the request. OrderDesk said: "card [redacted] declined"'
    )


async def test_masked_values_keep_names_and_hash_values_with_a_per_directory_key(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    order = CARDED | {"source_id": "SHOP-1"}
    async with JsonlAuditLog(path, values="masked") as audit:
        await _create(audit, order)
        await _create(audit, order | {"source_id": "SHOP-2"})
    text = path.read_text()
    assert "ada@example.com" not in text
    assert "Lovelace" not in text
    first, second = (r for r in tail(path) if r["attempt_id"] is None)
    assert first["values"] == "masked"
    one = {c["field"]: c["after"] for c in first["changes"]}
    two = {c["field"]: c["after"] for c in second["changes"]}
    assert re.fullmatch(r"h:[0-9a-f]{12}", one["email"])
    assert one["email"] == two["email"]  # the same value hashes the same: edits can be correlated
    assert re.fullmatch(r"h:[0-9a-f]{12}", one["shipping"])
    assert one["shipping"] != one["email"]
    assert (one["source_id"], two["source_id"]) == ("SHOP-1", "SHOP-2")  # not personal data: kept
    assert one["cc_number"] == "[redacted]"
    key = tmp_path / "audit.key"
    assert key.stat().st_mode & 0o077 == 0
    assert len(key.read_bytes()) == 32


async def test_a_masked_hash_depends_on_the_data_directory_secret(tmp_path: Path) -> None:
    hashes = []
    for name in ("a", "b"):
        path = tmp_path / name / "audit.jsonl"
        async with JsonlAuditLog(path, values="masked") as audit:
            await _create(audit, CARDED)
        (record,) = tail(path)
        hashes.append({c["field"]: c["after"] for c in record["changes"]}["email"])
    assert hashes[0] != hashes[1]


async def test_values_none_keeps_only_field_names(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with JsonlAuditLog(path, values="none") as audit:
        await _create(audit, CARDED)
    (record,) = tail(path)
    assert record["values"] == "none"
    assert {"field": "email"} in record["changes"]
    assert all(set(c) == {"field"} for c in record["changes"])
    assert "ada@example.com" not in path.read_text()


async def test_verify_and_tail_work_across_all_three_value_settings(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    settings: tuple[AuditValues, ...] = ("full", "masked", "none")
    for values in settings:
        async with JsonlAuditLog(path, values=values) as audit:
            await _create(audit, CARDED)
    report = verify(path)
    assert (report.ok, report.records, report.unfinished) == (True, 3, ())
    assert [r["values"] for r in tail(path)] == ["full", "masked", "none"]
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"masked"', '"full"')
    path.write_text("\n".join(lines) + "\n")
    assert verify(path).bad_line == 2


async def test_every_upstream_write_is_bracketed_by_an_attempt_and_its_outcome(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    inner = FakeOrderGateway({"500001": {"id": "500001"}})
    inner.failures["delete"] = [UpstreamRejected("Order locked", quoted=True)]
    async with JsonlAuditLog(path) as audit:
        gateway = AuditedOrderGateway(inner=inner, audit=audit, clock=FakeClock())
        created = await gateway.create(STORE, {"source_id": "odmcp-1", "order_items": []})
        await gateway.replace(STORE, "500001", {"id": "500001", "email": "b@example.com"})
        with pytest.raises(UpstreamRejected):
            await gateway.delete(STORE, "500001")
    records = tail(path)
    assert [(r["tool"], r["outcome"], r["order_id"]) for r in records] == [
        ("orders_create", "attempt", None),
        ("orders_create", "ok", created.id),
        ("orders_update", "attempt", "500001"),
        ("orders_update", "ok", "500001"),
        ("orders_delete", "attempt", "500001"),
        ("orders_delete", "error", "500001"),
    ]
    assert records[0]["changes"] == [{"field": "source_id", "before": None, "after": "odmcp-1"}]
    assert records[5]["error"] == 'OrderDesk rejected the request. OrderDesk said: "Order locked"'
    assert [r["attempt_id"] for r in records[::2]] == [r["attempt_id"] for r in records[1::2]]
    assert verify(path).unfinished == ()


async def test_a_write_whose_process_died_after_it_landed_shows_as_an_attempt_with_no_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.audit_crash_worker", str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 9, proc.stderr.decode()
    (record,) = tail(path)
    assert (record["tool"], record["outcome"], record["order_id"]) == ("orders_update", "attempt", "500001")
    assert record["note"] == "attempt with no outcome"
    assert verify(path).unfinished == (1,)
    assert main(["audit", "verify", "--path", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"audit log {path}: 1 records, chain intact; 1 attempt with no outcome (line 1): "
        "the write may or may not have reached OrderDesk, check the order there\n"
    )
    assert main(["audit", "tail", "--path", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["note"] == "attempt with no outcome"


async def test_verify_lists_every_attempt_with_no_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    clock = FakeClock()
    async with JsonlAuditLog(path) as audit:
        for order_id in ("1", "2"):
            await audit_attempt(audit, clock, store=STORE, tool="orders_delete", order_id=order_id)
            await audit_mutation(
                audit, clock, store=STORE, tool="orders_delete", order_id=order_id, outcome="ok"
            )
    assert main(["audit", "verify", "--path", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"audit log {path}: 4 records, chain intact; 2 attempts with no outcome (lines 1, 3): "
        "the write may or may not have reached OrderDesk, check the order there\n"
    )


async def test_an_attempt_that_is_cancelled_still_records_that_it_stopped(tmp_path: Path) -> None:
    audit = FakeAuditLog()

    class _Stops(FakeOrderGateway):
        async def delete(self, store: StoreRef, order_id: str) -> None:
            raise KeyboardInterrupt

    gateway = AuditedOrderGateway(inner=_Stops(), audit=audit, clock=FakeClock())
    with pytest.raises(KeyboardInterrupt):
        await gateway.delete(STORE, "7")
    assert [(r.outcome, r.error) for r in audit.records] == [
        ("attempt", None),
        ("error", "stopped: KeyboardInterrupt"),
    ]


def test_a_field_change_named_like_card_data_keeps_only_whether_it_was_set() -> None:
    from orderdesk_mcp.domain.use_cases._audit import safe_change

    assert safe_change("CC_Number", None, CARD) == FieldChange(
        field="CC_Number", before=None, after="[redacted]"
    )
