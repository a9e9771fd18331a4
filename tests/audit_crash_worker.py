"""A process that dies right after its PUT landed, before any audit record after it is written.

Run as ``python -m tests.audit_crash_worker AUDIT_PATH``: the simulated store takes the PUT, then
the process exits at once (``os._exit``: no cleanup, no finally blocks), as a killed server would.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio

from orderdesk_mcp.adapters.jsonl_audit_log import JsonlAuditLog
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.use_cases.audited_gateway import AuditedOrderGateway
from tests.fakes import FakeOrderGateway


class _DiesAfterLanding(FakeOrderGateway):
    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        await super().replace(store, order_id, doc)
        os._exit(9)


async def main(path: Path) -> None:
    store = StoreRef(tenant="acme", store_id="100001")
    inner = _DiesAfterLanding({"500001": {"id": "500001", "email": "a@example.com"}})
    async with JsonlAuditLog(path) as audit:
        gateway = AuditedOrderGateway(inner=inner, audit=audit, clock=SystemClock())
        await gateway.replace(store, "500001", {"id": "500001", "email": "b@example.com"})


if __name__ == "__main__":
    anyio.run(main, Path(sys.argv[1]))
