"""Four processes sharing one Redis bucket never exceed one store's OrderDesk limit."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState
from tests.upstream_harness import API_KEY, STORE_ID, served_simulator

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECONDS = 3.0
WORKER = Path(__file__).with_name("rate_worker.py")
ROOT = Path(__file__).resolve().parents[1]


async def test_four_processes_stay_inside_one_stores_bucket(redis_url: str, redis_prefix: str) -> None:
    state = SimulatorState()
    state.add_store(STORE_ID, API_KEY)
    state.seed_samples(STORE_ID, 2)
    outputs: list[str] = []
    async with served_simulator(state) as url:

        async def worker() -> None:
            result = await anyio.run_process(
                [sys.executable, str(WORKER), url, redis_url, redis_prefix, str(SECONDS)],
                cwd=ROOT,
                env={"PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
                check=True,
            )
            outputs.append(result.stdout.decode())
            assert result.stderr == b"", result.stderr.decode()

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(worker)
    served = [r for r in state.requests if r.path.endswith("/500001")]
    assert sum(int(o) for o in outputs) == len(served)
    assert [r.status for r in served if r.status != 200] == []  # OrderDesk never had to answer 429
    times = sorted(r.time for r in served)
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 18 + 3 + 1  # the client's burst, one second of refill, and one in flight at the edge
    assert len(served) >= 18  # and the processes did push as hard as the bucket allowed
