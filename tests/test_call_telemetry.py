"""Per-call telemetry in process: each server counts only its own calls, and outcomes are named."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from orderdesk_mcp.domain.background import BackgroundJob
from orderdesk_mcp.domain.context import CallContext, call_context, current_call, new_correlation_id
from orderdesk_mcp.domain.errors import OrderNotFound
from orderdesk_mcp.entrypoints.call_telemetry import CallTelemetry, outcome_of
from tests.fakes import FakeClock
from tests.mcp_harness import make_container, mcp_client

pytestmark = pytest.mark.anyio

GET, LIST = "orders_get", "orders_list"  # the tool names on this branch


def _sample(telemetry: CallTelemetry, name: str, **labels: str) -> float:
    value = telemetry.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_two_servers_in_one_process_keep_their_own_metrics(tmp_path: Path) -> None:
    first, second = make_container(tmp_path / "a"), make_container(tmp_path / "b")
    async with mcp_client(first) as one, mcp_client(second) as two:
        await one.call_tool(LIST, {"limit": 1})
        await one.call_tool(LIST, {"limit": 1})
        await two.call_tool(GET, {"order_id": "999999999"})
    a, b = first.telemetry(), second.telemetry()
    assert _sample(a, "orderdesk_tool_calls_total", tool=LIST, outcome="ok") == 2
    assert _sample(a, "orderdesk_cache_lookups_total", kind="list", result="hit") == 1
    assert _sample(a, "orderdesk_tool_calls_total", tool=GET, outcome="OrderNotFound") == 0
    assert _sample(b, "orderdesk_tool_calls_total", tool=GET, outcome="OrderNotFound") == 1
    assert _sample(b, "orderdesk_upstream_requests_total", method="GET", status="404") == 1
    assert _sample(b, "orderdesk_tool_calls_total", tool=LIST, outcome="ok") == 0


async def test_a_timed_call_logs_one_line_with_its_duration_from_the_clock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    telemetry = CallTelemetry(clock=clock)
    call = CallContext(correlation_id="c0ffee", tenant="acme", tool=GET)
    call.stats.upstream[("GET", 200)] = 2
    call.stats.cache[("order", True)] = 1
    call.stats.retries = 1
    with caplog.at_level(logging.INFO, logger="orderdesk_mcp.calls"), telemetry.observe(call) as observed:
        observed.store = "12345"
        await clock.sleep(0.25)
    assert [r.getMessage() for r in caplog.records] == [
        f"tool call tool={GET} tenant=acme store=12345 outcome=ok duration_ms=250.0 upstream_requests=2 "
        "cache=hit attempts=0 retries=1"
    ]
    assert _sample(telemetry, "orderdesk_tool_call_duration_seconds_sum", tool=GET) == 0.25
    assert _sample(telemetry, "orderdesk_upstream_retries_total") == 1


def test_outcomes_name_the_domain_error_the_deadline_a_cancellation_or_an_internal_error() -> None:
    wrapped = RuntimeError("tool error")
    wrapped.__cause__ = OrderNotFound("1", "2")
    timed_out = RuntimeError("tool error")
    timed_out.__cause__ = TimeoutError()
    assert outcome_of(None) == "ok"
    assert outcome_of(wrapped) == "OrderNotFound"
    assert outcome_of(timed_out) == "DeadlineExceeded"
    assert outcome_of(asyncio.CancelledError()) == "cancelled"
    assert outcome_of(ValueError("boom")) == "internal_error"


async def test_durations_fall_in_the_bucket_whose_bound_they_reach_and_the_buckets_are_cumulative() -> None:
    clock = FakeClock()
    telemetry = CallTelemetry(clock=clock)
    for seconds in (0.004, 0.005, 0.2, 90.0):
        with telemetry.observe(CallContext(correlation_id="c", tenant="acme", tool=GET)):
            await clock.sleep(seconds)
    buckets = {le: _sample(telemetry, "orderdesk_tool_call_duration_seconds_bucket", tool=GET, le=le)
               for le in ("0.005", "0.01", "0.25", "60.0", "+Inf")}  # fmt: skip
    assert buckets == {"0.005": 2, "0.01": 2, "0.25": 3, "60.0": 3, "+Inf": 4}
    assert _sample(telemetry, "orderdesk_tool_call_duration_seconds_count", tool=GET) == 4


def test_a_server_that_only_answers_tool_calls_never_loads_prometheus_client(tmp_path: Path) -> None:
    # stdio has no /metrics: the per-call totals are plain numbers until something reads them
    script = (
        "import sys, anyio\n"
        "from pathlib import Path\n"
        "from tests.mcp_harness import make_container, mcp_client\n"
        "async def main():\n"
        f"    async with mcp_client(make_container(Path({str(tmp_path)!r}))) as client:\n"
        "        assert not (await client.call_tool('orders_list', {'limit': 2})).is_error\n"
        "anyio.run(main)\n"
        "print('prometheus_client' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=Path(__file__).parent.parent, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "False\n"), done.stderr[-2000:]


def test_correlation_ids_are_16_hex_digits_and_do_not_repeat() -> None:
    ids = [new_correlation_id() for _ in range(20_000)]
    assert all(len(i) == 16 and int(i, 16) >= 0 and i == i.lower() for i in ids)
    assert len(set(ids)) == len(ids)


async def test_background_work_started_during_a_call_runs_outside_it() -> None:
    # The Redis lock's lease renewals ran in the context of the call whose hold started them, so a
    # lost lease of another call's lock was logged under the first call's correlation id, after
    # that call had ended (found in review).
    seen: list[CallContext | None] = []

    class Job(BackgroundJob):
        def start(self) -> None:
            self._start_job(self.work)

        async def work(self) -> None:
            seen.append(current_call())

    async with Job() as job:
        with call_context(CallContext(correlation_id="call-1")):
            job.start()
        with anyio.fail_after(5):
            while not seen:
                await anyio.sleep(0)
    assert seen == [None]


def test_a_forked_child_does_not_repeat_its_parents_correlation_ids() -> None:
    # Found in review: the generator is the module's own, which fork copied as it was. Forked in a
    # fresh interpreter: forking this multi-threaded test process is deprecated from Python 3.12.
    script = """
import os
from orderdesk_mcp.domain.context import new_correlation_id
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(write, ",".join(new_correlation_id() for _ in range(4)).encode())
    os._exit(0)
os.close(write)
parent = [new_correlation_id() for _ in range(4)]
with os.fdopen(read) as pipe:
    child = pipe.read().split(",")
os.waitpid(pid, 0)
print(len(child), len(set(child) & set(parent)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=30
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "4 0\n", "")
